// The action's database connections. Every wait is bounded: connecting, each statement, and each
// lock, so a locked broker table or a server that stops mid-run cannot hang the step.
import type { DsnParts } from './dsn.js'
import { toPgConfig } from './dsn.js'

export const ACTION_APPLICATION_NAME = 'celery-foundation-gates'

export interface Database {
  query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>
  /** The role this connection logged in as (`current_user`). */
  readonly role: string
  close(): Promise<void>
}

export interface ConnectOptions {
  connectTimeoutMs: number
  statementTimeoutMs: number
  lockTimeoutMs: number
}

const DEFAULTS: ConnectOptions = { connectTimeoutMs: 5000, statementTimeoutMs: 5000, lockTimeoutMs: 2000 }

/** A PostgreSQL error code and message, for evidence lines and for deciding what failed. */
export interface DbFailure {
  code?: string
  message: string
}

export function describeDbError(err: unknown): DbFailure {
  const e = err as { code?: string; message?: string }
  const message = (e?.message ?? String(err)).split('\n')[0] ?? ''
  return { code: typeof e?.code === 'string' ? e.code : undefined, message }
}

/** SQLSTATE classes that mean "the server refused this login": auth, unknown db/role, connection. */
export function isRefusal(failure: DbFailure): boolean {
  const code = failure.code ?? ''
  return (
    code.startsWith('28') || // invalid authorization / password
    code === '3D000' || // database does not exist
    code.startsWith('08') || // connection exceptions
    code === '53300' || // too many connections
    code === '57P03' || // cannot connect now (starting up)
    ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH'].includes(code) ||
    /timeout|terminated|Connection terminated/i.test(failure.message)
  )
}

export async function connect(parts: DsnParts, opts: Partial<ConnectOptions> = {}): Promise<Database> {
  const o = { ...DEFAULTS, ...opts }
  // Loaded on the first connection, not at start: a run that ends at its inputs never needs it.
  const { default: pg } = await import('pg')
  const client = new pg.Client({
    ...toPgConfig(parts),
    application_name: ACTION_APPLICATION_NAME,
    connectionTimeoutMillis: o.connectTimeoutMs,
    statement_timeout: o.statementTimeoutMs,
    lock_timeout: o.lockTimeoutMs,
    // Client-side bound too: a server that stops answering mid-query must not hang us.
    query_timeout: o.statementTimeoutMs + 1000,
    keepAlive: true
  })
  // A server that goes away later emits 'error' on the idle client; the next query reports it.
  client.on('error', () => {})
  await client.connect().catch(async (err) => {
    await client.end().catch(() => {})
    throw err
  })
  const rows = await client.query<{ role: string }>('SELECT current_user AS role')
  const role = rows.rows[0]?.role ?? ''
  let closed = false
  return {
    role,
    async query<R extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
      const res = await client.query<R>(sql, params)
      return res.rows
    },
    async close() {
      if (closed) return
      closed = true
      await Promise.race([client.end().catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())])
    }
  }
}

// The one SQL quoting helper lives with the others; re-exported for the database's callers.
export { qualified, quoteIdent } from '../util/quote.js'
