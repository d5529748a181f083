// What the worker's own lines tell us. Celery prints its banner with print() and everything else
// through logging — plain text by default, JSON or anything else when the app configures its
// logging — so every pattern matches inside a line rather than anchoring on a format.

export type LineKind =
  | { kind: 'transport'; value: string }
  | { kind: 'results'; value: string }
  | { kind: 'ready' }
  /** Celery gave up for good (`Unrecoverable error: …`); the worker exits, with code 0 on 5.2. */
  | { kind: 'fatal' }
  /**
   * The database refused the worker (bad password, closed port, unknown host/db/role …).
   * `transient`: the server may be restarting (refused, shutting down, closed); else it said no.
   */
  | { kind: 'db-refused'; reason: string; transient: boolean }
  /** The database refused an operation on some object (missing privilege). */
  | { kind: 'db-denied'; object: string }
  /**
   * Celery could not store or read a result (`BackendStoreError`, `BackendGetMetaError`), or the
   * database named a column of some table missing (`column celery_taskmeta.children does not exist`).
   */
  | { kind: 'result-store'; table?: string; column?: string; cause: string }
  /** Celery's boot WARNING: it could not add a column its result model has (not the table's owner). */
  | { kind: 'result-column-not-added'; column: string }
  | { kind: 'task-received' }
  | { kind: 'task-succeeded' }
  | { kind: 'task-failed' }
  | { kind: 'other' }

const BANNER = /\.>\s+(transport|results):\s+(\S+)/
const FATAL = /Unrecoverable error:/
// psycopg/psycopg2/libpq messages for a server that will not take the worker's connection.
// What a restarting server says: a worker reconnects on its own once it is back.
const TRANSIENT =
  /Connection refused|shutting down|starting up|in recovery mode|server closed the connection|timeout expired|too many clients|too many connections/
const DB_REFUSED = new RegExp(
  [
    // Quotes may arrive JSON-escaped (\\") when the app logs JSON.
    'password authentication failed for user \\\\?"[^"\\\\]*\\\\?"',
    'no pg_hba\\.conf entry for [^,"]*',
    'role \\\\?"[^"\\\\]*\\\\?" does not exist',
    'database \\\\?"[^"\\\\]*\\\\?" does not exist',
    'Connection refused',
    'could not translate host name "[^"]*" to address[^"\\\\]*',
    'timeout expired',
    'server closed the connection unexpectedly',
    'the database system is (?:starting up|shutting down|in recovery mode)',
    'role "[^"]*" is not permitted to log in',
    'password authentication failed',
    'too many connections for role "[^"]*"',
    'sorry, too many clients already'
  ].join('|')
)

/** `<node> ready.` as a whole word: `old-cfg-1@vm ready.` is another worker's line. */
function isReadyLine(line: string, nodeName: string): boolean {
  const at = line.indexOf(`${nodeName} ready.`)
  return at >= 0 && (at === 0 || !/[\w.@-]/.test(line[at - 1] as string))
}

export function classifyLine(line: string, run: { nodeName: string; taskId: string }): LineKind {
  const banner = BANNER.exec(line)
  if (banner) return { kind: banner[1] === 'transport' ? 'transport' : 'results', value: banner[2] as string }
  if (isReadyLine(line, run.nodeName)) return { kind: 'ready' }
  if (FATAL.test(line)) return { kind: 'fatal' }
  if (/OperationalError|psycopg|could not connect|connection to server/.test(line)) {
    const refused = DB_REFUSED.exec(line)
    if (refused) return { kind: 'db-refused', reason: refused[0].replace(/\\"/g, '"'), transient: TRANSIENT.test(refused[0]) }
  }
  const denied = /permission denied for (?:table|sequence|schema|relation|database) ("?[\w.$-]+"?)/.exec(line)
  if (denied) return { kind: 'db-denied', object: (denied[1] as string).replace(/"/g, '') }
  const notAdded = /Failed to add missing column '([\w$]+)'/.exec(line)
  if (notAdded) return { kind: 'result-column-not-added', column: notAdded[1] as string }
  const undefinedColumn = /column \\?"?([\w$]+)\.([\w$]+)\\?"? does not exist/.exec(line)
  if (undefinedColumn)
    return {
      kind: 'result-store',
      table: undefinedColumn[1] as string,
      column: undefinedColumn[2] as string,
      cause: `${/UndefinedColumn/.test(line) ? 'UndefinedColumn: ' : ''}${undefinedColumn[0].replace(/\\?"/g, '')}`
    }
  const backend = /\bBackend(?:Store|GetMeta)Error\b[:(]?\s*[^"\\\n]{0,100}/.exec(line)
  if (backend) return { kind: 'result-store', cause: backend[0].trim() }
  if (line.includes(run.taskId)) {
    if (/succeeded in/.test(line)) return { kind: 'task-succeeded' }
    if (/raised unexpected|\braised\b|\bfailed\b/.test(line)) return { kind: 'task-failed' }
    if (/\breceived\b/.test(line)) return { kind: 'task-received' }
  }
  return { kind: 'other' }
}

/** The `Type: message` line of a Python traceback (the last one, for chained exceptions). */
function exceptionLine(traceback: string): string | undefined {
  const lines = traceback.split('\n').map((l) => l.trimEnd())
  const typed = lines.filter((l) => /^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning|Refused|Timeout)\b/.test(l))
  // SQLAlchemy ends its errors with a "(Background on this error at: …)" link: never the answer.
  return typed.at(-1) ?? lines.filter((l) => l.trim() && !l.startsWith('(Background on this error')).at(-1)
}

/**
 * One log line as a person reads it: a JSON record becomes `LEVEL logger: message` followed by its
 * exception with real line breaks; anything else stays as it is.
 */
export function expandLogLine(line: string): string {
  const text = line.trim()
  if (!text.startsWith('{')) return text
  try {
    const rec = JSON.parse(text) as Record<string, unknown>
    const head = summarizeLogLine(JSON.stringify({ ...rec, exc_info: undefined, exception: undefined, exc_text: undefined }), 2000)
    const exc = [rec.exc_info, rec.exception, rec.exc_text].find((v) => typeof v === 'string') as string | undefined
    return exc ? `${head}\n${exc.trimEnd()}` : head
  } catch {
    return text
  }
}

/**
 * One log line made short enough for an evidence cell. A JSON log record (as apps with
 * structured logging print) becomes `LEVEL logger: message` plus the last line of its exception.
 */
export function summarizeLogLine(line: string, max = 300): string {
  let text = line.trim()
  if (text.startsWith('{')) {
    try {
      const rec = JSON.parse(text) as Record<string, unknown>
      const message = rec.message ?? rec.msg ?? rec.event
      if (typeof message === 'string') {
        const level = rec.level ?? rec.levelname
        const logger = rec.logger ?? rec.name
        const exc = [rec.exc_info, rec.exception, rec.exc_text].find((v) => typeof v === 'string') as string | undefined
        const excLine = exc ? exceptionLine(exc) : undefined
        // The exception is worth adding only when the message does not already say it.
        const adds = excLine && !message.includes(excLine.replace(/^[\w.]+: /, '').slice(0, 60))
        text = `${level ? `${String(level)} ` : ''}${logger ? `${String(logger)}: ` : ''}${message}${adds ? ` — ${excLine}` : ''}`
      }
    } catch {
      // Cut or not JSON after all: pick the fields out of the text.
      const field = (name: string): string | undefined => new RegExp(`"${name}":\\s*"((?:[^"\\\\]|\\\\.)*)"`).exec(text)?.[1]
      const message = field('message')
      if (message) text = `${field('level') ?? ''} ${field('logger') ?? ''}: ${message.replace(/\\"/g, '"')}`.trim()
    }
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}
