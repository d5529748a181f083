// The `sql` command's one Python run: bootstrap.py in its `sql` mode imports the app exactly as
// the worker would (same bootstrap, same working directory, same environment rule) and writes one
// `schema` event on fd 3 — the DDL the installed kombu and Celery would emit (schema.py) — then
// exits. No worker starts, nothing connects. The event comes from the user's interpreter: it is
// bounded, validated, and every statement must be one of the three kinds schema.py makes.
import { spawn } from 'node:child_process'
import { z } from 'zod'
import { signalGroup } from '../proc/process-group.js'
import { BOOTSTRAP_PATH } from '../celery/worker-process.js'
import { workerEnvironment } from '../celery/worker-env.js'

const BOOT_ENV = 'CELERY_FOUNDATION_GATES_BOOT'
/** Far above any real event (a few KB); a larger one is refused, not parsed. */
const MAX_EVENT_BYTES = 1 << 20
/** The last stderr kept for an error message. */
const MAX_STDERR_BYTES = 16 << 10

/** What schema.py's `_idempotent` makes, and nothing else: a statement that starts otherwise is refused. */
const STATEMENT = /^CREATE (UNIQUE )?(TABLE|SEQUENCE|INDEX) IF NOT EXISTS [^]{1,20000}$/

/**
 * One statement and nothing else: outside its quoted identifiers and literals no `;` (a second
 * statement run by the superuser applying the script), no comment, no dollar quote, and no
 * backslash anywhere (a psql meta-command such as `\!`; SQLAlchemy's DDL for these tables has none,
 * and without backslashes each quote pairs with the next one as PostgreSQL's lexer pairs them).
 */
export function singleStatement(statement: string): boolean {
  if (statement.includes('\\')) return false
  const bare = statement.replace(/"[^"]*"|'[^']*'/g, ' ')
  return !/[;"']|(?<![\w$])\$|--|\/\*/.test(bare)
}

const Name = z.string().min(1).max(200)
const Statement = z
  .string()
  .regex(STATEMENT, 'not a CREATE … IF NOT EXISTS statement')
  .refine(singleStatement, 'more than one statement, a comment, a dollar quote or a backslash')
const Part = z.object({
  statements: z.array(Statement).max(200),
  objects: z.record(z.string(), z.object({ name: Name, schema: Name.nullish(), sequences: z.array(z.object({ name: Name, schema: Name.nullish() })).max(20) }))
})
const SchemaEvent = z.object({
  event: z.literal('schema'),
  versions: z.object({ celery: z.string().nullish(), kombu: z.string().nullish(), sqlalchemy: z.string().nullish() }),
  transport: z.object({ scheme: z.string().max(100).nullish(), transport_class: z.string().max(300).nullish(), error: z.string().nullish() }),
  backend_class: z.string().max(500).nullish(),
  broker: Part.optional(),
  broker_error: z.string().optional(),
  results: Part.optional(),
  results_error: z.string().optional()
})
const Failure = z.object({ event: z.enum(['import-error', 'error']), type: z.string(), message: z.string(), traceback: z.string().optional() })

export type SchemaReport = z.infer<typeof SchemaEvent>
export type SchemaPart = z.infer<typeof Part>

export type SchemaOutcome = { ok: true; report: SchemaReport } | { ok: false; message: string; details?: string }

export interface SchemaProbeSpec {
  python: string
  cwd: string
  app: string
  /** `sqla` builds kombu's tables whatever the app's broker URL says. */
  transport?: 'sqla'
  timeoutMs: number
}

/** Runs the bootstrap in `sql` mode and resolves to its event (or why there is none). Never rejects. */
export function probeSchema(spec: SchemaProbeSpec): Promise<SchemaOutcome> {
  return new Promise((resolve) => {
    const child = spawn(spec.python, [BOOTSTRAP_PATH], {
      cwd: spec.cwd,
      detached: true, // its own group: whatever the app's import started goes with it
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      env: workerEnvironment(process.env, [], {
        [BOOT_ENV]: JSON.stringify({ app: spec.app, argv: [], mode: 'sql', transport: spec.transport, parentPid: process.pid }),
        PYTHONUNBUFFERED: '1'
      })
    })
    let event = ''
    let stderr = ''
    let settled = false
    const finish = (outcome: SchemaOutcome): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signalGroup(child.pid, 'SIGKILL')
      resolve(outcome)
    }
    const timer = setTimeout(
      () => finish({ ok: false, message: `the app did not import within ${Math.round(spec.timeoutMs / 1000)} s (${spec.app})`, details: stderr }),
      spec.timeoutMs
    )
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-MAX_STDERR_BYTES)
    })
    const channel = child.stdio[3] as NodeJS.ReadableStream | null
    channel?.setEncoding('utf8')
    channel?.on('data', (chunk: string) => {
      event += chunk
      if (event.length > MAX_EVENT_BYTES) finish({ ok: false, message: `the bootstrap's report exceeds ${MAX_EVENT_BYTES} bytes` })
      // The report is whole: no need to wait for a process the app's import started to let go of our pipes.
      else if (event.includes('\n')) finish(parseEvent(event.slice(0, event.indexOf('\n')), stderr))
    })
    channel?.on('error', () => {})
    child.once('error', (err: NodeJS.ErrnoException) =>
      finish({
        ok: false,
        message:
          err.code === 'ENOENT'
            ? `python ${JSON.stringify(spec.python)} was not found (expected a Python 3 interpreter on PATH or a path to one)`
            : `could not start python: ${err.message}`
      })
    )
    child.once('close', (code, signal) => {
      const line = event.split('\n', 1)[0] ?? ''
      if (!line.trim()) {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
        return finish({ ok: false, message: `${spec.python} ${how} without a report; is it a Python 3 interpreter with Celery installed?`, details: stderr })
      }
      finish(parseEvent(line, stderr))
    })
  })
}

function parseEvent(line: string, stderr: string): SchemaOutcome {
  let raw: unknown
  try {
    raw = JSON.parse(line)
  } catch {
    return { ok: false, message: 'the bootstrap wrote something that is not JSON', details: stderr }
  }
  const failure = Failure.safeParse(raw)
  if (failure.success) {
    const what = failure.data.event === 'import-error' ? 'the app did not import' : 'reading the installed models failed'
    return { ok: false, message: `${what}: ${failure.data.message}`, details: failure.data.traceback }
  }
  const parsed = SchemaEvent.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    return { ok: false, message: `the bootstrap's report has an unexpected shape at ${issue?.path.join('.') ?? '?'} (${issue?.message ?? 'invalid'})` }
  }
  return { ok: true, report: parsed.data }
}
