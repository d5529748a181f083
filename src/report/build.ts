// Assembles the RunReport from whatever the run got to: a full run, an input error before
// anything started, a cancellation, or a crash. Every gate id always appears, in order, so the
// matrix is complete in every case.
import { TOOL_NAME, type GateId } from '../constants.js'
import type { Gate } from '../gates/gate.js'
import type { RunFacts, TraceCleanup } from '../run/facts.js'
import { redactDsn } from '../db/dsn.js'
import type { Settings } from '../settings.js'
import { verdictOf } from '../engine.js'
import type { GateResult, RunReport } from './model.js'

export const ACTION_VERSION = '0.1.0'

export interface ReportInput {
  gates: readonly Gate[]
  results: GateResult[]
  startedAt: Date
  startedMs: number
  runId: string
  failOn: string
  settings?: Settings
  facts?: RunFacts
  interrupted?: RunReport['interrupted']
  /** Milliseconds since the start when the last gate finished, and when the worker was gone. */
  gatesMs?: number
  workerStopMs?: number
  /** The gate that an input error belongs to. */
  inputErrorGate?: GateId
  cleanup?: TraceCleanup
}

export function buildReport(input: ReportInput): RunReport {
  const gates = completeGates(input)
  const facts = input.facts
  const report: RunReport = {
    schemaVersion: 1,
    tool: { name: TOOL_NAME, version: ACTION_VERSION },
    runId: input.runId,
    startedAt: input.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    verdict: input.interrupted && input.interrupted.kind !== 'cancelled' ? 'fail' : verdictOf(gates),
    failOn: input.failOn,
    gates,
    versions: { node: process.versions.node, action: ACTION_VERSION },
    timings: { totalMs: Math.round(performance.now() - input.startedMs) },
    settings: input.settings ? shownSettings(input.settings) : {}
  }
  // A cancelled run proved nothing it did not finish; it must not read as a pass.
  if (input.interrupted) {
    report.interrupted = input.interrupted
    if (input.interrupted.kind === 'cancelled' && !gates.some((g) => g.status === 'fail')) report.verdict = 'fail'
  }
  if (input.gatesMs !== undefined) report.timings.gatesMs = input.gatesMs
  if (input.workerStopMs !== undefined) report.timings.workerStopMs = input.workerStopMs
  if (facts) addRunFacts(report, facts, input.cleanup)
  return report
}

/** Fills in gates that never produced a result, so every id is in the matrix. */
function completeGates(input: ReportInput): GateResult[] {
  const byId = new Map(input.results.map((r) => [r.id, r]))
  return input.gates.map((gate) => {
    const done = byId.get(gate.id)
    if (done) return done
    const base = { id: gate.id, title: gate.title, description: gate.description, foundation: gate.foundation, durationMs: 0 }
    const i = input.interrupted
    if (i?.kind === 'input-error' && input.inputErrorGate === gate.id) return { ...base, status: 'fail', evidence: i.message }
    const reason =
      i?.kind === 'input-error' ? 'not run: an input is invalid' : i?.kind === 'cancelled' ? 'not run: the run was cancelled' : 'not run: the action stopped early'
    return { ...base, status: 'skip', evidence: reason }
  })
}

function addRunFacts(report: RunReport, facts: RunFacts, cleanup: TraceCleanup | undefined): void {
  const worker = facts.workerInfo()
  if (worker) report.worker = worker
  report.ping = { task: facts.settings.pingTask, taskId: facts.ids.taskId }
  const watch = facts.watch
  const t = report.timings
  if (facts.probeMs !== undefined) t.probeMs = facts.probeMs
  const readyMs = facts.msSinceStart(watch?.ready?.atMs)
  if (readyMs !== undefined) t.workerReadyMs = readyMs
  if (cleanup) report.trace = cleanup
}

/** Adds what only a finished run knows: the ping's status, result and round trip; the tests. */
export async function addPingFacts(report: RunReport, facts: RunFacts): Promise<void> {
  const tests = await facts.testsReport?.catch(() => undefined)
  if (tests) report.tests = tests
  const outcome = await facts.ping()
  const probe = await facts.probe()
  if (probe.ok) {
    const v = probe.probe.versions
    report.versions = { ...report.versions, python: v.python, celery: v.celery ?? undefined, kombu: v.kombu ?? undefined, sqlalchemy: v.sqlalchemy ?? undefined }
  } else if (probe.kind === 'import-error') report.importError = probe.error
  // Only a ping that was published has an id worth showing.
  if (outcome.kind === 'not-run') delete report.ping
  const extras = outcome.kind === 'pong' ? await facts.extras().catch(() => []) : []
  if (extras.length)
    report.extraPings = extras.map(({ purpose, queue, task, taskId, status, worker }) => ({ purpose, queue, task, taskId, ...(status ? { status } : {}), ...(worker ? { worker } : {}) }))
  if (!report.ping) return
  if (outcome.kind === 'pong') {
    report.ping.status = 'SUCCESS'
    report.ping.result = outcome.result.display
    report.ping.roundTripMs = Math.round(outcome.pongAtMs - outcome.publishedAtMs)
    const published = facts.msSinceStart(outcome.publishedAtMs)
    const pong = facts.msSinceStart(outcome.pongAtMs)
    if (published !== undefined) report.timings.pingPublishedMs = published
    if (pong !== undefined) report.timings.pongMs = pong
    report.timings.roundTripMs = report.ping.roundTripMs
  } else if (outcome.kind === 'task-failed') {
    report.ping.status = 'FAILURE'
    report.ping.result = facts.redact(outcome.error)
  } else report.ping.status = outcome.kind
}

function shownSettings(s: Settings): Record<string, string> {
  return {
    app: s.app,
    'working-directory': s.workingDirectory,
    python: s.python,
    'worker-args': s.workerArgs.join(' '),
    // Shown only when set: what the worker was given beyond the rule of celery/worker-env.ts.
    ...(s.workerEnv?.length ? { 'worker-env': s.workerEnv.join(', ') } : {}),
    'database-url': s.databaseUrl ? redactDsn(s.databaseUrl) : '(derived from the broker URL)',
    'expected-role': s.expectedRole,
    'ping-task': s.pingTask,
    timeout: String(s.timeoutSeconds),
    'tenant-tables': s.tenantTables?.join(', ') ?? '(every table with a tenant_id column)',
    'fail-on': s.failOn
  }
}

