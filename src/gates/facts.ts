// What a gate may ask of the run: the narrow view of everything one run learns (the probe of the
// imported app, the data-plane ping, what the worker printed, the action's own database
// connection). The gates depend on this interface only; run/facts.ts implements it, and a unit
// test implements it with a plain object. No worker internals (the process, its line watcher)
// cross it: a gate reads lines and facts, it cannot stop or signal the worker.
import type { IdentityRecord } from '../celery/connections.js'
import type { DataPlaneCheck } from '../celery/data-plane.js'
import type { PingOutcome } from '../celery/ping.js'
import type { ProbeOutcome } from '../celery/probe.js'
import type { Database } from '../db/database.js'
import type { GateResult } from '../report/model.js'
import type { TestsReport } from '../taxonomy/model.js'
import type { SampledRecord } from '../run/session-sampler.js'

/** The names one run uses, each unique to it. */
export interface RunIds {
  runId: string
  nodeName: string
  queue: string
  taskId: string
  /** application_name of the worker's database sessions (PGAPPNAME). */
  applicationName: string
}

export type { ProbeOutcome } from '../celery/probe.js'
export type { IdentityRecord, ObservedIdentity } from '../celery/connections.js'
export type { SampledRecord } from '../run/session-sampler.js'
export type { ConfiguredIdentity, ConfiguredRecord } from '../celery/configured.js'

/** A ping sent to one of the app's queues, or the dlq probe task, and what became of it. */
export interface ExtraResult {
  purpose: 'queue' | 'probe'
  queue: string
  task: string
  taskId: string
  error?: string
  /** The result row's final state, if one appeared in time. */
  status?: string
  /** The node that stored it (result_extended only). */
  worker?: string
}

/**
 * What a gate needs the worker to do beyond answering the run's own ping; the run boots the
 * worker with the union over the selected gates (engine.ts workerNeeds).
 * - `app-queues`: consume the app's own queues and answer a ping sent through each of them.
 * - `probe-task`: receive the dlq probe task (dlq-probe-task), which fails on purpose.
 */
export type WorkerNeed = 'app-queues' | 'probe-task'

export interface SeenLine {
  line: string
  /** Milliseconds since the worker was spawned (the worker's clock). */
  atMs: number
}

/** What the worker printed, as far as it got: read-only, live (values fill in as lines arrive). */
export interface WorkerLines {
  /** The worker's loglevel, as it was started. */
  readonly loglevel: string
  /** The `ready.` line, once printed. */
  readonly ready: SeenLine | undefined
  /** The tasks its banner lists; undefined until the banner's task list was printed. */
  readonly bannerTasks: readonly string[] | undefined
  /** The queues its banner lists (`.> name exchange=…`). */
  readonly bannerQueues: readonly string[]
  /** Every line from `ready.` on (bounded). */
  readonly sinceReady: readonly SeenLine[]
  /** The last `n` lines it printed, oldest first; none when it was never started. */
  lastLines(n: number): string[]
  /** Milliseconds since it was spawned; undefined when it was never started. */
  elapsedMs(): number | undefined
}

export interface GateFacts {
  readonly ids: RunIds
  /** The worker's output (the banner, the ready line, the last lines). */
  readonly lines: WorkerLines
  /** The probe of the imported app: what it configures, or why it did not import. */
  probe(): Promise<ProbeOutcome>
  /** The data plane the app configures; undefined when the app did not import. */
  dataPlane(): Promise<DataPlaneCheck | undefined>
  /** The run's own ping through the data plane, as it ended. */
  ping(): Promise<PingOutcome>
  /** Did the worker answer the run's ping (any result)? */
  pingAnswered(): Promise<boolean>
  /** The transport and results URLs the worker printed at boot (empty when it printed none). */
  banner(): Promise<{ transport?: string; results?: string }>
  /** The action's own connection for SQL checks (`database-url`, else the broker's DSN). */
  database(): Promise<Database>
  /** Why the SQL checks cannot run, when that is already known (the database refused the DSN). */
  sqlChecksBlocked(): Promise<string | undefined>
  /**
   * Every database identity the worker's processes used during the run, as recorded in-process
   * by bootstrap's connection hooks (connections.py): role, where it was opened, how often; and
   * (`configured`) the identities the app configures, used or not (configured.py).
   */
  identities(): Promise<IdentityRecord>
  /**
   * The sessions of the worker's process tree seen in pg_stat_activity, sampled from spawn until
   * now (run/session-sampler.ts): what went around the in-process hooks too.
   */
  sampledSessions(): Promise<SampledRecord>
  /** The pings through the app's queues and the dlq probe task (only what the gates asked for). */
  extras(): Promise<ExtraResult[]>
  /** The test reports of `junit`, classified against the results so far (memoised). */
  tests(earlier: readonly GateResult[]): Promise<TestsReport | undefined>
  /** Whether the worker is running now, and the ids of its processes (main and pool children). */
  workerRunning(): boolean
  workerProcessIds(): number[]
  /** Outside text as it may be shown: known secrets and credential patterns cut. */
  redact(text: string): string
  cancelled(): boolean
}
