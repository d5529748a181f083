// DSNs as Celery, kombu and SQLAlchemy read them. The worker interprets its URLs with
// SQLAlchemy's URL grammar, so we parse with the same grammar (a transcription of
// sqlalchemy.engine.url._parse_url) instead of the WHATWG URL parser: a password with an
// unencoded '/' or '?' is legal there and must be read — and hidden — the same way.
import type { ClientConfig } from 'pg'

export interface DsnParts {
  /** `postgresql`, `postgresql+psycopg2`, `redis`, … (without Celery's `sqla+`/`db+` prefix). */
  scheme: string
  /** Celery's prefix selecting the transport or backend: `sqla`, `db`, or undefined. */
  prefix?: string
  username?: string
  password?: string
  host?: string
  port?: number
  database?: string
  query: Record<string, string>
}

const SQLALCHEMY_URL = new RegExp(
  [
    '^(?<name>[\\w+]+)://',
    '(?:(?<username>[^:/]*)(?::(?<password>[^@]*))?@)?',
    '(?:(?:\\[(?<ipv6host>[^/?]+)\\]|(?<ipv4host>[^/:?]+))?(?::(?<port>[^/?]*))?)?',
    '(?:/(?<database>[^?]*))?',
    '(?:\\?(?<query>.*))?$'
  ].join(''),
  's'
)

/** Celery's own prefixes: `sqla+`/`sqlalchemy+` for the broker, `db+` for the result backend. */
const CELERY_PREFIXES = ['sqla', 'sqlalchemy', 'db']

export function parseDsn(url: string): DsnParts | undefined {
  const m = SQLALCHEMY_URL.exec(url.trim())
  if (!m?.groups) return undefined
  const g = m.groups
  let name = g.name ?? ''
  let prefix: string | undefined
  const plus = name.indexOf('+')
  if (plus > 0 && CELERY_PREFIXES.includes(name.slice(0, plus).toLowerCase())) {
    prefix = name.slice(0, plus).toLowerCase()
    name = name.slice(plus + 1)
  }
  const port = g.port ? Number(g.port) : undefined
  return {
    scheme: name.toLowerCase(),
    prefix,
    username: g.username ? safeDecode(g.username) : undefined,
    password: g.password !== undefined ? safeDecode(g.password) : undefined,
    host: g.ipv6host ?? g.ipv4host ?? undefined,
    port: port !== undefined && Number.isInteger(port) ? port : undefined,
    database: g.database ? safeDecode(g.database) : undefined,
    query: parseQuery(g.query)
  }
}

/**
 * Percent-decoding as Python's urllib.parse.unquote does it (SQLAlchemy uses it): valid escapes
 * are decoded as UTF-8, invalid ones (`%zz`) stay as they are — so the action connects with the
 * same password the worker does.
 */
function safeDecode(s: string): string {
  return s.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'))
}

function parseQuery(q: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!q) return out
  for (const pair of q.split('&')) {
    if (!pair) continue
    const eq = pair.indexOf('=')
    const key = safeDecode((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, ' '))
    out[key] = safeDecode((eq < 0 ? '' : pair.slice(eq + 1)).replace(/\+/g, ' '))
  }
  return out
}

/** True for SQLAlchemy's PostgreSQL dialect with any driver (`postgresql`, `postgresql+psycopg`). */
export function isPostgresScheme(scheme: string): boolean {
  return scheme === 'postgresql' || scheme.startsWith('postgresql+')
}

/**
 * The URL with its credentials replaced, as the seed shows it: `sqla+postgresql://***@host:5432/db`.
 * Query strings are dropped (they can carry passwords too). Everything up to the last '@' before
 * the query is credentials: a password with an unencoded '@', ':' or '/' must not leak even in
 * part, whatever a URL parser would make of it. Anything without `scheme://` is hidden whole.
 */
export function redactDsn(url: string): string {
  const m = /^([\w+.-]+):\/\/(.*)$/s.exec(url.trim())
  if (!m) return '***'
  const scheme = (m[1] as string).toLowerCase()
  const rest = m[2] as string
  const query = rest.indexOf('?')
  const beforeQuery = query < 0 ? rest : rest.slice(0, query)
  const at = beforeQuery.lastIndexOf('@')
  // An '@' only after a '?': either a password with an unencoded '?' or an '@' in the query —
  // the two cannot be told apart, so nothing after the scheme is shown.
  if (at < 0 && rest.lastIndexOf('@') > query && query >= 0) return `${scheme}://***`
  const tail = beforeQuery.slice(at + 1)
  const slash = tail.indexOf('/')
  const where = slash < 0 ? tail : tail.slice(0, slash)
  const db = slash < 0 ? '' : tail.slice(slash)
  return `${scheme}://${at >= 0 ? '***@' : ''}${where}${db}`
}

/** Where a DSN points, for comparing two DSNs without their credentials. */
export function dsnTarget(parts: DsnParts): string {
  return `${parts.host ?? 'localhost'}:${parts.port ?? 5432}/${parts.database ?? ''}`
}

/** node-postgres settings for a SQLAlchemy PostgreSQL URL (driver suffix and prefixes ignored). */
export function toPgConfig(parts: DsnParts): ClientConfig {
  const q = parts.query
  const config: ClientConfig = {
    user: parts.username ?? q.user,
    password: parts.password ?? q.password,
    host: parts.host ?? q.host,
    port: parts.port ?? (q.port ? Number(q.port) : undefined),
    database: parts.database ?? q.dbname
  }
  // libpq's `options` (e.g. `-c search_path=tenant`) changes what the worker's session sees.
  if (q.options) config.options = q.options
  const sslmode = q.sslmode
  if (sslmode === 'require' || sslmode === 'no-verify') config.ssl = { rejectUnauthorized: false }
  else if (sslmode === 'verify-ca' || sslmode === 'verify-full') config.ssl = { rejectUnauthorized: true }
  return config
}
