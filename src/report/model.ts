// The run's report: one plain data structure that every sink renders (job summary, outputs,
// JSON file, terminal). Renderers are pure functions of this object.
import type { GateId, GateStatus } from '../constants.js'
import type { TestsReport } from '../taxonomy/model.js'

export type Verdict = 'pass' | 'fail'

export interface GateResult {
  id: GateId | string
  title: string
  description: string
  status: GateStatus
  /** One short line (or a few, separated by '\n') a reviewer reads in the matrix. */
  evidence: string
  /** Longer material for the collapsible section and the JSON report (tracebacks, lists). */
  details?: string
  /** Whether a failure of this gate makes the verdict fail. */
  foundation: boolean
  durationMs: number
}

export interface WorkerInfo {
  nodeName: string
  queue: string
  pid?: number
  argv: string[]
  readyLine?: string
  exit?: { code: number | null; signal: string | null; afterMs: number }
  /** How the worker ended; `kept`: left running for the job (keep-worker), stopped by the post step. */
  stop?: { how: 'warm' | 'terminated' | 'killed' | 'already-exited' | 'not-started' | 'kept'; ms: number }
  /** Last lines the worker printed, secrets redacted. */
  logTail: string[]
  /** Path of the full (bounded, redacted) worker log. */
  logFile?: string
  logBytes: number
  logTruncated: boolean
}

export interface VersionsInfo {
  python?: string
  celery?: string
  kombu?: string
  sqlalchemy?: string
  node: string
  action: string
}

export interface Timings {
  /** Milliseconds since the run started, for the milestones that happened. */
  probeMs?: number
  workerReadyMs?: number
  pingPublishedMs?: number
  pongMs?: number
  roundTripMs?: number
  gatesMs?: number
  workerStopMs?: number
  totalMs: number
}

export interface RunReport {
  schemaVersion: 1
  tool: { name: string; version: string }
  runId: string
  startedAt: string
  finishedAt: string
  verdict: Verdict
  failOn: string
  /** Set when the run did not finish normally: cancelled by the runner, an input error, a crash. */
  interrupted?: { kind: 'cancelled' | 'input-error' | 'crash'; message: string }
  gates: GateResult[]
  worker?: WorkerInfo
  ping?: { task: string; taskId: string; status?: string; result?: string; roundTripMs?: number }
  /** The pings sent through the app's own queues (queues gate) and the dlq probe task. */
  extraPings?: Array<{ purpose: 'queue' | 'probe'; queue: string; task: string; taskId: string; status?: string; worker?: string }>
  /** The bootstrap's import-error event as it came (`event` and the seconds the import took included). */
  importError?: { type: string; message: string; traceback: string; event?: 'import-error'; seconds?: number }
  versions: VersionsInfo
  timings: Timings
  /** The JUnit reports given in `junit`, each failing test classified (the failure taxonomy). */
  tests?: TestsReport
  /** What the run left in the broker and result tables, and whether it was removed. */
  trace?: { removed: boolean; detail: string }
  /** Inputs as the run understood them, DSNs redacted. */
  settings: Record<string, string>
}
