// The data-plane ping: the message Celery itself built (in bootstrap.py) is published by the data
// plane (planes/: kombu's sqla tables, PGMQ) on the run's own queue, exactly as kombu's transport
// would, before the worker starts, so the worker's first poll takes it; then the result row is
// read back from the result backend's table by task id. `celery inspect ping` cannot work on the
// sqla transport (no fanout) nor on PGMQ (its reply queue's name is over PGMQ's 47 characters),
// so this is the only proof.
//
// Every wait is bounded by the run's deadline and wakes early on the worker's own signals: its
// exit (Celery 5.2 exits 0 even on fatal errors), an `Unrecoverable error`, or the database
// refusing it (the worker itself would retry forever).
import { connect, describeDbError, isRefusal, qualified, type Database, type DbFailure } from '../db/database.js'
import { dsnTarget, type DsnParts } from '../db/dsn.js'
import { DB_LOST_GRACE_MS, REFUSAL_GRACE_MS, RESULT_ROW_GRACE_MS } from '../timing.js'
import type { DataPlane } from './data-plane.js'
import { planeOf, type Sent } from '../planes/index.js'
import type { ProbeReport } from './probe.js'
import { decodeResult, describeStoredException, MAX_RESULT_BYTES, type DecodedResult } from './result-decode.js'
import type { WorkerExit, WorkerProcess } from './worker-process.js'
import type { SeenLine, WorkerWatch } from './worker-watch.js'

export type PingOutcome =
  | { kind: 'pong'; result: DecodedResult; publishedAtMs: number; pongAtMs: number }
  | { kind: 'task-failed'; error: string; traceback?: string; pongAtMs: number }
  | { kind: 'not-run'; reason: string }
  | { kind: 'db-refused'; reason: string; source: 'worker' | 'action'; line?: string }
  | { kind: 'db-denied'; object: string; line: string }
  | { kind: 'worker-exited'; exit: WorkerExit; line?: string; dbError?: string }
  | { kind: 'no-result'; line: string }
  /**
   * The worker said it cannot store or read results; `columns`: what its result table lacks, from
   * its lines (the boot WARNING, the UndefinedColumn error).
   */
  | { kind: 'result-store'; line: string; cause: string; table: string; columns: string[]; warning?: string }
  /** The ping could not be published for a reason other than a missing privilege (e.g. a lock). */
  | { kind: 'publish-failed'; reason: string }
  /** The database stopped answering while the action waited for the pong (and did not come back). */
  | { kind: 'db-lost'; reason: string }
  | { kind: 'timeout'; detail: string }
  | { kind: 'cancelled' }

export interface PingDeps {
  worker: WorkerProcess
  watch: WorkerWatch
  probe: ProbeReport
  plane: DataPlane
  queue: string
  taskId: string
  /** performance.now() value after which the worker has not answered in time. */
  deadline: number
  signal: AbortSignal
  /** Receives the broker connection, which the run reuses for cleanup and closes. */
  keepConnection: (db: Database) => void
  /** Receives the messages published (the run's trace in the broker's queues). */
  keepMessages: (sent: Sent[]) => void
}

/** Status values after which celery_taskmeta will not change for this task. */
const FINAL = new Set(['SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED', 'IGNORED'])
const RESULT_POLL_MS = 10
const INSUFFICIENT_PRIVILEGE = '42501'
/** The most of a stored traceback read back (a real one is a few KiB). */
const MAX_TRACEBACK_CHARS = 64 * 1024

export async function pingThroughDataPlane(d: PingDeps): Promise<PingOutcome> {
  const payload = d.probe.ping_payload
  if (!payload) {
    d.worker.cancel()
    return { kind: 'not-run', reason: `Celery could not build the ping message: ${d.probe.ping_payload_error ?? 'no payload'}` }
  }
  const tables = d.probe.tables
  const plane = planeOf(d.plane.kind)

  // 1. Reach the broker's database as the worker will: same DSN, same role.
  let broker: Database | undefined
  let actionRefusal: string | undefined
  try {
    broker = await connect(d.plane.broker.parts, { connectTimeoutMs: boundedMs(d.deadline, 5000) })
    d.keepConnection(broker)
  } catch (err) {
    const failure = describeDbError(err)
    actionRefusal = failure.message
    if (!isRefusal(failure)) actionRefusal = `${failure.message} (${failure.code ?? 'no code'})`
  }

  // 2. Publish before the worker exists when the broker tables do; otherwise after it made them.
  // With the run's ping go the pings for the app's other queues and the dlq probe (bootstrap.py).
  const outgoing = [{ queue: d.queue, payload }, ...(d.probe.extra_payloads ?? []).flatMap((x) => (x.payload ? [{ queue: x.queue, payload: x.payload }] : []))]
  const consumed = d.probe.consumed_queues ?? [d.queue]
  let published = false
  let publishedAtMs = 0
  let publishError: DbFailure | undefined
  const send = async (): Promise<void> => {
    d.keepMessages(await plane.publish(broker as Database, d.probe, consumed, outgoing))
    published = true
    publishedAtMs = d.worker.elapsed()
  }
  if (broker) {
    try {
      if (await plane.ready(broker, d.probe)) await send()
    } catch (err) {
      publishError = describeDbError(err)
    }
  }
  // A table held by another session would block the worker's poll just the same: say who holds
  // it instead of starting a worker that can only hang.
  if (publishError && publishError.code !== INSUFFICIENT_PRIVILEGE && broker) {
    d.worker.cancel()
    return { kind: 'publish-failed', reason: await explainPublishFailure(broker, publishError, plane.lockedTables(d.probe, [d.queue])) }
  }
  d.worker.go()

  if (actionRefusal) return awaitWorkerRefusal(d, actionRefusal)

  const stop = (): PingOutcome | undefined => stopReason(d)
  if (broker && !published && !publishError) {
    // Fresh database: the worker creates the tables and its queue rows (the run's queue last, so
    // once it exists the others do); publish right after.
    while (!published) {
      const s = stop()
      if (s) return s
      try {
        if (await plane.queueExists(broker, d.probe, d.queue)) await send()
      } catch (err) {
        const failure = describeDbError(err)
        if (failure.code !== '42P01') {
          publishError = failure
          break
        }
      }
      if (!published) await pause(d, 20)
    }
  }
  if (publishError) {
    // The worker's role cannot write its own broker tables; the worker will show the same error.
    const s = await waitForWorkerSign(d, REFUSAL_GRACE_MS)
    const object = plane.kind === 'sqla' ? tables.queue : `the ${plane.kind} queues`
    return s ?? { kind: 'db-denied', object, line: `publishing the ping as the worker's role failed: ${publishError.message}` }
  }

  // 3. Read the result back from the result backend's table.
  const reader = new ResultReader(resultConnection(d.plane, broker), d.probe, d.taskId)
  try {
    while (true) {
      const row = await reader.read(d.deadline)
      if (row && FINAL.has(row.status)) return outcomeOf(row, publishedAtMs, d.worker.elapsed())
      const s = stop()
      // A worker that died while the server was away: say so, its last line may not.
      if (s?.kind === 'worker-exited' && reader.unreachableMs() > 0) return { ...s, dbError: reader.lastError }
      if (s) return s
      const lost = reader.unreachableMs()
      if (lost > DB_LOST_GRACE_MS) return { kind: 'db-lost', reason: `${reader.lastError ?? 'no answer'} (for ${(lost / 1000).toFixed(1)} s)` }
      if (d.watch.taskSucceeded && d.worker.elapsed() - d.watch.taskSucceeded.atMs > RESULT_ROW_GRACE_MS)
        return { kind: 'no-result', line: d.watch.taskSucceeded.line }
      await pause(d, RESULT_POLL_MS)
    }
  } finally {
    await reader.close()
  }
}

/**
 * Why waiting for the pong must end now, if it must. A refusal that a restarting server also gives
 * ends the wait only once it has lasted (the worker reconnects by itself when the server is back),
 * or at once when the action's own connection was refused too (`acceptTransient`).
 */
/**
 * The final states of the result rows of `taskIds` (the pings through the app's queues, the dlq
 * probe task), read back until every one is final, `until` (a performance.now() value) passes or
 * `stop` says so. The node that stored each is there with result_extended.
 */
export async function readFinalResults(
  db: Database,
  tables: ProbeReport['tables'],
  taskIds: string[],
  until: number,
  stop: () => boolean
): Promise<Map<string, { status: string; worker: string | null }>> {
  const table = qualified(tables.task, tables.task_schema)
  const rows = new Map<string, { status: string; worker: string | null }>()
  while (performance.now() < until && !stop()) {
    const found = await db.query<{ task_id: string; status: string; worker: string | null }>(
      // Bounded like the ping's read: copies of a row (no UNIQUE(task_id)) cannot grow the answer.
      `SELECT task_id, left(status::text, 50) AS status, left(to_jsonb(t) ->> 'worker', 300) AS worker FROM ${table} t WHERE task_id = ANY($1::text[]) LIMIT ${MAX_EXTRA_ROWS}`,
      [taskIds]
    )
    for (const r of found) if (FINAL.has(r.status)) rows.set(r.task_id, { status: r.status, worker: r.worker })
    if (rows.size === taskIds.length) break
    await new Promise((resolve) => setTimeout(resolve, 50).unref())
  }
  return rows
}

function stopReason(d: PingDeps, acceptTransient = false): PingOutcome | undefined {
  if (d.signal.aborted) return { kind: 'cancelled' }
  const w = d.watch
  const r = w.refused
  if (r && (!r.transient || acceptTransient || d.worker.elapsed() - r.atMs > DB_LOST_GRACE_MS))
    return { kind: 'db-refused', reason: r.reason, source: 'worker', line: r.line }
  const plane = planeOf(d.plane.kind)
  if (w.denied && plane.ownsObject(w.denied.object, d.probe)) return { kind: 'db-denied', object: w.denied.object, line: w.denied.line }
  // Every later result fails the same way: waiting out the timeout would only hide the cause.
  const rs = w.resultStore
  if (rs && (!rs.table || plane.ownsObject(rs.table, d.probe))) {
    const table = rs.table ?? d.probe.tables.task
    const fromBoot = table === d.probe.tables.task ? w.columnsNotAdded : []
    const columns = [...new Set([...(rs.column ? [rs.column] : []), ...fromBoot])]
    return { kind: 'result-store', line: rs.line, cause: rs.cause, table, columns, warning: w.columnNotAddedLine?.line }
  }
  const exit = w.exited
  if (exit) return { kind: 'worker-exited', exit, line: (w.fatal ?? lastErrorLine(d.worker))?.line }
  if (performance.now() >= d.deadline) return { kind: 'timeout', detail: timeoutDetail(d) }
  return undefined
}

function timeoutDetail(d: PingDeps): string {
  const seconds = ((d.deadline - d.worker.spawnedAt) / 1000).toFixed(0)
  if (!d.watch.ready) return `the worker did not get ready within ${seconds} s`
  if (!d.watch.taskReceived) return `the worker was ready but did not take the ping from queue ${d.queue} within ${seconds} s`
  return `the worker received the ping but no result arrived within ${seconds} s`
}

function lastErrorLine(worker: WorkerProcess): SeenLine | undefined {
  const lines = worker.lastLines(40)
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] as string
    if (/Error|error:|CRITICAL|Traceback|Exception/.test(line)) return { line, atMs: 0 }
  }
  const last = lines.at(-1)
  return last ? { line: last, atMs: 0 } : undefined
}

/** We could not connect with the worker's DSN: give the worker a moment to say it in its words. */
async function awaitWorkerRefusal(d: PingDeps, ours: string): Promise<PingOutcome> {
  const s = await waitForWorkerSign(d, REFUSAL_GRACE_MS)
  if (s && s.kind !== 'timeout') return s
  return { kind: 'db-refused', reason: ours, source: 'action' }
}

async function waitForWorkerSign(d: PingDeps, graceMs: number): Promise<PingOutcome | undefined> {
  const until = Math.min(d.deadline, performance.now() + graceMs)
  while (performance.now() < until) {
    // Called when the action's own connection already failed: the worker's refusal is final.
    const s = stopReason(d, true)
    if (s && s.kind !== 'timeout') return s
    await pause(d, Math.min(100, until - performance.now()))
  }
  return undefined
}

/** Sleeps `ms`, waking early at cancellation or at anything notable the worker prints. */
function pause(d: PingDeps, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms))
    const unsubscribe = d.watch.onChange(done)
    d.signal.addEventListener('abort', done, { once: true })
    function done(): void {
      clearTimeout(timer)
      unsubscribe()
      d.signal.removeEventListener('abort', done)
      resolve()
    }
  })
}

function boundedMs(deadline: number, cap: number): number {
  return Math.max(250, Math.min(cap, deadline - performance.now()))
}

/**
 * Why the ping could not be inserted, with who holds the broker tables when it was a lock: the
 * worker's own poll would wait on that session forever, so naming it is the useful evidence.
 */
async function explainPublishFailure(db: Database, failure: DbFailure, tables: string[]): Promise<string> {
  if (failure.code !== '55P03' && failure.code !== '57014') return failure.message
  try {
    const holders = await db.query<{ pid: number; usename: string | null; application_name: string | null; mode: string; relname: string }>(
      `SELECT l.pid, a.usename::text, a.application_name, l.mode, c.relname::text
         FROM pg_locks l JOIN pg_class c ON c.oid = l.relation LEFT JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.granted AND l.pid <> pg_backend_pid()
          AND l.relation = ANY (SELECT to_regclass(t) FROM unnest($1::text[]) AS t)
          AND l.mode IN ('AccessExclusiveLock', 'ExclusiveLock', 'ShareRowExclusiveLock', 'ShareLock', 'RowExclusiveLock')
        ORDER BY l.mode = 'AccessExclusiveLock' DESC LIMIT 3`,
      [tables]
    )
    const strong = holders.filter((h) => h.mode !== 'RowExclusiveLock')
    if (!strong.length) return `${failure.message} (no session holds a blocking lock now)`
    const who = strong
      .map((h) => `pid ${h.pid}${h.usename ? ` (${h.usename}${h.application_name ? `, ${h.application_name}` : ''})` : ''} holds ${h.mode} on ${h.relname}`)
      .join('; ')
    return `the broker tables are locked by another session: ${who}; end that session or its transaction`
  } catch {
    return failure.message
  }
}

interface ResultRow {
  status: string
  /** At most MAX_RESULT_BYTES + 1 bytes of the column: the row is outside input. */
  result: Buffer | null
  /** The column's full length in bytes. */
  result_size: number | null
  traceback: string | null
}

function outcomeOf(row: ResultRow, publishedAtMs: number, nowMs: number): PingOutcome {
  const result = decodeResult(row.result, row.result_size ?? 0)
  if (row.status === 'SUCCESS') return { kind: 'pong', result, publishedAtMs, pongAtMs: nowMs }
  const error = describeStoredException(result.value) ?? `${row.status}: ${result.display}`
  return { kind: 'task-failed', error, traceback: row.traceback ?? undefined, pongAtMs: nowMs }
}

/** At most this many rows answer the extra pings' read-back (a few per queue is plenty). */
const MAX_EXTRA_ROWS = 1000

function resultConnection(plane: DataPlane, broker: Database | undefined): { parts: DsnParts; shared?: Database } {
  const same =
    dsnTarget(plane.backend.parts) === dsnTarget(plane.broker.parts) &&
    plane.backend.parts.username === plane.broker.parts.username &&
    plane.backend.parts.password === plane.broker.parts.password
  return same && broker ? { parts: plane.backend.parts, shared: broker } : { parts: plane.backend.parts }
}

/**
 * Reads the ping's row, reconnecting when the server goes away (a restart mid-run must not end
 * the wait early: the worker may still answer before the deadline).
 */
class ResultReader {
  private db: Database | undefined
  private readonly sql: string
  private lastConnectAttempt = 0
  /** When the server stopped answering (undefined while it answers), and what it said last. */
  private failingSince: number | undefined
  lastError: string | undefined

  constructor(
    private readonly conn: { parts: DsnParts; shared?: Database },
    probe: ProbeReport,
    private readonly taskId: string
  ) {
    this.db = conn.shared
    // Anyone with INSERT on the table can write this row: read a bounded prefix of each column
    // (a result of a gigabyte would otherwise be fetched, hex-encoded, into one string), and one
    // row only (a table made without UNIQUE(task_id) may hold many copies of it).
    this.sql =
      `SELECT left(status::text, 50) AS status, substring(result from 1 for ${MAX_RESULT_BYTES + 1}) AS result, octet_length(result) AS result_size,` +
      ` left(traceback, ${MAX_TRACEBACK_CHARS}) AS traceback FROM ${qualified(probe.tables.task, probe.tables.task_schema)} WHERE task_id = $1 LIMIT 1`
  }

  async read(deadline: number): Promise<ResultRow | undefined> {
    if (!this.db) {
      if (performance.now() - this.lastConnectAttempt < 250) return undefined
      this.lastConnectAttempt = performance.now()
      try {
        this.db = await connect(this.conn.parts, { connectTimeoutMs: boundedMs(deadline, 2000) })
      } catch (err) {
        this.failing(describeDbError(err).message)
        return undefined
      }
    }
    try {
      const rows = await this.db.query<ResultRow & Record<string, unknown>>(this.sql, [this.taskId])
      this.failingSince = undefined
      return rows[0]
    } catch (err) {
      const failure = describeDbError(err)
      if (failure.code === '42P01') {
        this.failingSince = undefined
        return undefined // result table not created yet (Celery < 5.5 creates it lazily)
      }
      this.failing(failure.message)
      if (this.db !== this.conn.shared) await this.db.close()
      this.db = undefined
      this.conn.shared = undefined
      return undefined
    }
  }

  /** Milliseconds the server has not answered for (0 while it answers). */
  unreachableMs(): number {
    return this.failingSince === undefined ? 0 : performance.now() - this.failingSince
  }

  private failing(message: string): void {
    this.failingSince ??= performance.now()
    this.lastError = message
  }

  async close(): Promise<void> {
    if (this.db && this.db !== this.conn.shared) await this.db.close()
  }
}
