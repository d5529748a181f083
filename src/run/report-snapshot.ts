// What the run's facts hold, as the plain snapshot the report is built from (report/snapshot.ts).
// The report never asks the facts itself: the session gathers this — the asynchronous facts
// first — and hands it to buildReport, on every path.
import type { PingOutcome } from '../celery/ping.js'
import type { PingSnapshot, RunSnapshot } from '../report/snapshot.js'
import type { RunFacts, TraceCleanup } from './facts.js'

/**
 * What the facts know synchronously: enough for the report a second signal leaves no time to
 * wait for. The facts only a finished run knows (the ping's outcome, the tests, the probe's
 * versions) are absent, not different.
 */
export function runSnapshotNow(facts: RunFacts, trace?: TraceCleanup): RunSnapshot {
  const snapshot: RunSnapshot = { pingTask: facts.settings.pingTask, pingTaskId: facts.ids.taskId }
  const worker = facts.workerInfo()
  if (worker) snapshot.worker = worker
  if (facts.probeMs !== undefined) snapshot.probeMs = facts.probeMs
  const readyMs = facts.msSinceStart(facts.watch?.ready?.atMs)
  if (readyMs !== undefined) snapshot.workerReadyMs = readyMs
  if (trace) snapshot.trace = trace
  return snapshot
}

/**
 * The snapshot of a finished run: what `runSnapshotNow` has, then the tests, the ping's outcome,
 * the probe's versions or import error, and the pings through the app's own queues. A fact that
 * cannot be had leaves out those after it; the report is still written.
 */
export async function runSnapshotAtEnd(facts: RunFacts, trace?: TraceCleanup): Promise<RunSnapshot> {
  const snapshot = runSnapshotNow(facts, trace)
  try {
    const tests = await facts.testsReport?.catch(() => undefined)
    if (tests) snapshot.tests = tests
    const outcome = await facts.ping()
    const probe = await facts.probe()
    if (probe.ok) snapshot.versions = probe.probe.versions
    else if (probe.kind === 'import-error') snapshot.importError = probe.error
    snapshot.ping = pingSnapshot(outcome, facts)
    const extras = outcome.kind === 'pong' ? await facts.extras().catch(() => []) : []
    if (extras.length) snapshot.extraPings = extras
  } catch {
    // What was gathered so far stands.
  }
  return snapshot
}

function pingSnapshot(outcome: PingOutcome, facts: RunFacts): PingSnapshot {
  switch (outcome.kind) {
    case 'not-run':
      return { published: false }
    case 'pong':
      return {
        published: true,
        status: 'SUCCESS',
        result: outcome.result.display,
        roundTripMs: Math.round(outcome.pongAtMs - outcome.publishedAtMs),
        publishedMs: facts.msSinceStart(outcome.publishedAtMs),
        pongMs: facts.msSinceStart(outcome.pongAtMs)
      }
    case 'task-failed':
      return { published: true, status: 'FAILURE', result: facts.redact(outcome.error) }
    default:
      return { published: true, status: outcome.kind }
  }
}
