// What a run got to, as plain data: everything the report builder needs, nothing it has to ask
// for. The session gathers it (src/run/report-snapshot.ts) — the asynchronous facts (the ping's
// outcome, the tests, the probe's versions) before the build — so that one pure function builds
// every report: a full run, an input error, a crash, a cancellation, a run cut short by a second
// signal. A fact the run did not get to is absent; the shape is the same in every case.
import type { GateId } from '../constants.js'
// Settings is plain data, the inputs as parsed (above the session, not the run's machinery): the
// report shows them, DSNs redacted.
import type { Settings } from '../settings.js'
import type { TestsReport } from '../taxonomy/model.js'
import type { GateResult, RunReport, WorkerInfo } from './model.js'

/** A gate as the matrix names it, whether or not it produced a result. */
export interface GateEntry {
  id: GateId | string
  title: string
  description: string
  foundation: boolean
}

export interface ReportSnapshot {
  /** The run's gates, in order: each one without a result is filled in as not run. */
  gates: readonly GateEntry[]
  results: readonly GateResult[]
  runId: string
  startedAt: Date
  finishedAt: Date
  /** Milliseconds from the start to `finishedAt`. */
  totalMs: number
  failOn: string
  /** Absent when the inputs were rejected. */
  settings?: Settings
  interrupted?: RunReport['interrupted']
  /** The gate that an input error belongs to. */
  inputErrorGate?: GateId
  /** Milliseconds since the start when the last gate finished, and when the worker was gone. */
  gatesMs?: number
  workerStopMs?: number
  /** What the run learned from its worker; absent when no run began (an input error, a crash before it). */
  run?: RunSnapshot
}

export interface RunSnapshot {
  worker?: WorkerInfo
  pingTask: string
  pingTaskId: string
  /** Milliseconds since the start. */
  probeMs?: number
  workerReadyMs?: number
  /** What the run left in the broker and result tables, and whether it was removed. */
  trace?: { removed: boolean; detail: string }
  // Known only once the run is over (gathered asynchronously): absent when a second signal left
  // no time to wait for them, or when gathering them failed.
  tests?: TestsReport
  ping?: PingSnapshot
  versions?: { python: string; celery?: string | null; kombu?: string | null; sqlalchemy?: string | null }
  importError?: RunReport['importError']
  extraPings?: ReadonlyArray<{ purpose: 'queue' | 'probe'; queue: string; task: string; taskId: string; status?: string; worker?: string }>
}

/** The run's own ping as it ended. */
export interface PingSnapshot {
  /** False when it was never published: the report then shows no ping. */
  published: boolean
  /** `SUCCESS`, `FAILURE`, or how it ended otherwise (`no-reply`, `db-refused`, …). */
  status?: string
  /** The task's result, or its error (redacted). */
  result?: string
  roundTripMs?: number
  /** Milliseconds since the start when it was published, and when it was answered. */
  publishedMs?: number
  pongMs?: number
}
