// Assembles the RunReport from a snapshot of whatever the run got to: a full run, an input error
// before anything started, a cancellation, a crash, or a run a second signal cut short. One pure
// function of plain data (report/snapshot.ts): the session gathers the snapshot, asynchronous
// facts included, so every path writes a report of the same shape. Every gate id always appears,
// in order, so the matrix is complete in every case.
import { TOOL_NAME } from '../constants.js'
import { redactDsn } from '../db/dsn.js'
import type { Settings } from '../settings.js'
import type { GateResult, RunReport } from './model.js'
import type { ReportSnapshot, RunSnapshot } from './snapshot.js'
import { verdictOf } from './status.js'

export const ACTION_VERSION = '0.1.0'

export function buildReport(snapshot: ReportSnapshot): RunReport {
  const gates = completeGates(snapshot)
  const report: RunReport = {
    schemaVersion: 1,
    tool: { name: TOOL_NAME, version: ACTION_VERSION },
    runId: snapshot.runId,
    startedAt: snapshot.startedAt.toISOString(),
    finishedAt: snapshot.finishedAt.toISOString(),
    verdict: snapshot.interrupted && snapshot.interrupted.kind !== 'cancelled' ? 'fail' : verdictOf(gates),
    failOn: snapshot.failOn,
    gates,
    versions: { node: process.versions.node, action: ACTION_VERSION },
    timings: { totalMs: snapshot.totalMs },
    settings: snapshot.settings ? shownSettings(snapshot.settings) : {}
  }
  // A cancelled run proved nothing it did not finish; it must not read as a pass.
  if (snapshot.interrupted) {
    report.interrupted = snapshot.interrupted
    if (snapshot.interrupted.kind === 'cancelled' && !gates.some((g) => g.status === 'fail')) report.verdict = 'fail'
  }
  if (snapshot.gatesMs !== undefined) report.timings.gatesMs = snapshot.gatesMs
  if (snapshot.workerStopMs !== undefined) report.timings.workerStopMs = snapshot.workerStopMs
  if (snapshot.run) addRunFacts(report, snapshot.run)
  return report
}

/** Fills in gates that never produced a result, so every id is in the matrix. */
function completeGates(snapshot: ReportSnapshot): GateResult[] {
  const byId = new Map(snapshot.results.map((r) => [r.id, r]))
  return snapshot.gates.map((gate) => {
    const done = byId.get(gate.id)
    if (done) return done
    const base = { id: gate.id, title: gate.title, description: gate.description, foundation: gate.foundation, durationMs: 0 }
    const i = snapshot.interrupted
    if (i?.kind === 'input-error' && snapshot.inputErrorGate === gate.id) return { ...base, status: 'fail', evidence: i.message }
    const reason =
      i?.kind === 'input-error'
        ? 'not run: an input is invalid'
        : i?.kind === 'cancelled'
          ? 'not run: the run was cancelled'
          : 'not run: the action stopped early'
    return { ...base, status: 'skip', evidence: reason }
  })
}

function addRunFacts(report: RunReport, run: RunSnapshot): void {
  if (run.worker) report.worker = run.worker
  const ping = run.ping
  // Only a ping that was published has an id worth showing.
  if (ping?.published !== false) {
    report.ping = { task: run.pingTask, taskId: run.pingTaskId }
    if (ping?.status !== undefined) report.ping.status = ping.status
    if (ping?.result !== undefined) report.ping.result = ping.result
    if (ping?.roundTripMs !== undefined) report.ping.roundTripMs = ping.roundTripMs
  }
  const t = report.timings
  if (run.probeMs !== undefined) t.probeMs = run.probeMs
  if (run.workerReadyMs !== undefined) t.workerReadyMs = run.workerReadyMs
  if (ping?.publishedMs !== undefined) t.pingPublishedMs = ping.publishedMs
  if (ping?.pongMs !== undefined) t.pongMs = ping.pongMs
  if (report.ping?.roundTripMs !== undefined) t.roundTripMs = report.ping.roundTripMs
  if (run.trace) report.trace = run.trace
  if (run.tests) report.tests = run.tests
  const v = run.versions
  if (v)
    report.versions = {
      ...report.versions,
      python: v.python,
      celery: v.celery ?? undefined,
      kombu: v.kombu ?? undefined,
      sqlalchemy: v.sqlalchemy ?? undefined
    }
  if (run.importError) report.importError = run.importError
  if (run.extraPings?.length)
    report.extraPings = run.extraPings.map(({ purpose, queue, task, taskId, status, worker }) => ({
      purpose,
      queue,
      task,
      taskId,
      ...(status ? { status } : {}),
      ...(worker ? { worker } : {})
    }))
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
    ...(s.allowedRoles?.length ? { 'allowed-roles': s.allowedRoles.join(', ') } : {}),
    'ping-task': s.pingTask,
    timeout: String(s.timeoutSeconds),
    'tenant-tables': s.tenantTables?.join(', ') ?? '(every table with a tenant_id column)',
    'fail-on': s.failOn
  }
}
