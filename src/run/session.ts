// One run of the gates, whoever asked for it — the action's main step or the CLI: raw inputs →
// settings → gates → report. What differs between the two (where lines, the summary and the
// report go; how a secret is masked; what "exit now" means) is the host's business. Whatever
// happens — an input error, a cancellation, a crash — the host is handed a report to write.
import { Inputs } from '../constants.js'
import { parseDsn } from '../db/dsn.js'
import { errorLine, runGates, workerNeeds } from '../engine.js'
import type { Gate } from '../gates/gate.js'
import { ALL_GATES, selectGates } from '../gates/index.js'
import { onCancellation } from '../lifecycle.js'
import { buildReport } from '../report/build.js'
import type { GateResult, RunReport } from '../report/model.js'
import type { ReportSnapshot } from '../report/snapshot.js'
import { registerEnvironmentSecrets, type SecretRegistry } from '../secrets.js'
import { GATE_OF_INPUT, InputError, loadSettings, type RawInputs, type Settings } from '../settings.js'
import { BROKEN_STOP_GRACE_MS, CANCEL_GRACE_MS, HEALTHY_STOP_GRACE_MS } from '../timing.js'
import { scrubStrings } from '../util/scrub.js'
import { RunFacts, newRunIds, type TraceCleanup } from './facts.js'
import { runSnapshotAtEnd, runSnapshotNow } from './report-snapshot.js'

export interface SessionHost {
  info(line: string): void
  warning(message: string): void
  gateStarted?(gate: Gate): void
  gateEnded(result: GateResult): void
  /** The worker is up: the action saves its pid for the post step. */
  workerSpawned?(pid: number, runId: string): void
  /** The verified worker keeps running (keep-worker); its output goes to `outputFile`. */
  workerKept?(kept: { outputFile: string; nodeName: string; pid?: number }): void
  /** Writes the finished report. Synchronous: it may have to run inside a signal handler. */
  finish(report: RunReport): void
  /** A second signal: the report is written, the worker killed; end the process now. */
  exitNow(message: string): never
}

export interface SessionOutcome {
  report: RunReport
  /** Undefined when the inputs were rejected. */
  settings?: Settings
  /** Why the run fails — a bad input, an interruption, or a failure under `fail-on` — if it does. */
  failure?: string
  /** The input was rejected: the caller may want another exit code than for a red gate. */
  inputError?: boolean
}

interface Base {
  gates: readonly Gate[]
  startedAt: Date
  startedMs: number
  failOn: string
}

/** The part of the report's snapshot every path has, with the run's end taken now. */
function ended({ gates, startedAt, startedMs, failOn }: Base): Pick<ReportSnapshot, 'gates' | 'startedAt' | 'finishedAt' | 'totalMs' | 'failOn'> {
  return { gates, startedAt, finishedAt: new Date(), totalMs: Math.round(performance.now() - startedMs), failOn }
}

/**
 * `secrets` is the caller's, so that what it prints and writes (summary, outputs, JSON) goes
 * through the same registry; it masks on the host (core.setSecret on a runner) as it learns.
 */
export async function runSession(raw: RawInputs, host: SessionHost, secrets: SecretRegistry): Promise<SessionOutcome> {
  const base: Base = { gates: ALL_GATES, startedAt: new Date(), startedMs: performance.now(), failOn: 'foundation' }
  // Every report the host writes (summary, outputs, JSON, annotations, pull-request feedback) is
  // cleaned field by field first: the last line of defence for outside text a gate quoted raw.
  const cleanHost: SessionHost = { ...host, finish: (report) => host.finish(cleanReport(report, secrets)) }
  const done = (report: RunReport, rest: Omit<SessionOutcome, 'report'>): SessionOutcome => {
    cleanHost.finish(report)
    return { report, ...rest }
  }
  try {
    // Before anything runs or prints: the DSN given as input, its password, the GitHub token, and
    // every credential in the environment the worker inherits (an app may quote its own DSN in an
    // import error, or print it, before the action learns its URLs from the probe).
    secrets.addExact(raw[Inputs.DatabaseUrl])
    secrets.add(parseDsn(raw[Inputs.DatabaseUrl] ?? '')?.password)
    secrets.addExact(raw[Inputs.GithubToken]?.trim())
    registerEnvironmentSecrets(process.env, secrets)
    base.failOn = raw[Inputs.FailOn] || 'foundation'
    let settings: Settings
    try {
      settings = await loadSettings(raw)
    } catch (err) {
      if (!(err instanceof InputError)) throw err
      const message = secrets.clean(err.message)
      const interrupted = { kind: 'input-error' as const, message }
      const report = buildReport({ ...ended(base), results: [], runId: newRunIds().runId, interrupted, inputErrorGate: GATE_OF_INPUT[err.input] })
      return done(report, { failure: message, inputError: true })
    }
    // Only the gates asked for are run and shown; a gate turned off never blocks another.
    const { report, failure } = await runGatesAndReport(settings, secrets, cleanHost, { ...base, gates: selectGates(settings.gates) })
    return { report, settings, failure }
  } catch (err) {
    // Last line of defence: a bug must still leave a summary that says so.
    const message = secrets.clean(`the action crashed: ${errorLine(err)}`)
    return done(buildReport({ ...ended(base), results: [], runId: newRunIds().runId, interrupted: { kind: 'crash', message } }), { failure: message })
  }
}

async function runGatesAndReport(settings: Settings, secrets: SecretRegistry, host: SessionHost, base: Base): Promise<{ report: RunReport; failure?: string }> {
  const facts = new RunFacts(settings, secrets, {
    onWorkerSpawned: (pid, runId) => host.workerSpawned?.(pid, runId),
    // The worker is booted for the gates that run: each says what it needs from it.
    fromWorker: workerNeeds(base.gates)
  })
  const results: GateResult[] = []
  // Every report of this run, the hurried one included, is built from a snapshot of one shape.
  const snapshot = (end: ReturnType<typeof ended>, rest: Partial<ReportSnapshot>): ReportSnapshot => ({
    ...end,
    results,
    runId: facts.ids.runId,
    failOn: settings.failOn,
    settings,
    ...rest
  })
  let cancelled: NodeJS.Signals | undefined
  const stopListening = onCancellation({
    cancel(signal) {
      cancelled = signal
      host.warning(`Received ${signal}: stopping the worker and writing the summary`)
      facts.cancel()
    },
    hurry(signal) {
      // No time for a warm shutdown: kill the worker group and write what we have, synchronously.
      facts.worker?.killNow()
      const interrupted = { kind: 'cancelled' as const, message: `cancelled by ${signal}` }
      host.finish(buildReport(snapshot(ended(base), { run: runSnapshotNow(facts), interrupted })))
      host.exitNow(`Cancelled by ${signal}`)
    }
  })

  let crash: unknown
  let cleanup: TraceCleanup | undefined
  facts.start()
  try {
    await runGates(base.gates, settings, facts, {
      onGateStart: (gate) => host.gateStarted?.(gate),
      onGateEnd: (r) => {
        // Cleaned before the host logs its evidence; the report holds the same object.
        scrubStrings(r, (text) => secrets.clean(text))
        results.push(r)
        host.gateEnded(r)
      },
      // Classification is a step of the run, not of the `ci` gate: `junit` with `fail-on: any`
      // must fail a red suite whichever gates run.
      beforeJudges: async (done) => {
        if (settings.junit && !facts.cancelled()) await facts.tests(done)
      }
    })
  } catch (err) {
    crash = err
  }
  const gatesMs = Math.round(performance.now() - base.startedMs)
  // A worker is kept for the job only once it proved itself: a broken one is stopped as usual.
  const keep = settings.keepWorker && !cancelled && !crash && results.find((r) => r.id === 'runtime')?.status === 'pass'
  try {
    if (keep) {
      const kept = await facts.keep()
      cleanup = kept.cleanup
      if (kept.outputFile) host.workerKept?.({ outputFile: kept.outputFile, nodeName: facts.ids.nodeName, pid: facts.worker?.pid })
    } else cleanup = await facts.close(stopGrace(cancelled, results))
  } catch (err) {
    crash ??= err
  }
  const workerStopMs = Math.round(performance.now() - base.startedMs)
  const interrupted: RunReport['interrupted'] = cancelled
    ? { kind: 'cancelled', message: `cancelled by ${cancelled}` }
    : crash
      ? { kind: 'crash', message: secrets.clean(`the action crashed: ${errorLine(crash)}`) }
      : undefined
  // The run ends here; the facts only a finished run knows are gathered before the build.
  const end = ended(base)
  const run = await runSnapshotAtEnd(facts, cleanup)
  const report = buildReport(snapshot(end, { run, interrupted, gatesMs, workerStopMs }))
  host.finish(report)
  stopListening()
  return { report, failure: interrupted?.message ?? stepFailure(report, settings) }
}

/** The report with every string cleaned (known secrets, credential patterns), in place. */
function cleanReport(report: RunReport, secrets: SecretRegistry): RunReport {
  return scrubStrings(report, (text) => secrets.clean(text))
}

/** Why the step fails under `fail-on`, or undefined when it passes. */
export function stepFailure(report: RunReport, settings: Pick<Settings, 'failOn'>): string | undefined {
  if (settings.failOn === 'never') return undefined
  const failed = report.gates.filter((g) => g.foundation && g.status === 'fail').map((g) => g.id)
  if (failed.length) return `Celery foundation gates failed: ${failed.join(', ')} (see the job summary)`
  const tests = report.tests
  if (settings.failOn !== 'any' || !tests) return undefined
  if (tests.failed) return `${tests.failed} test${tests.failed > 1 ? 's' : ''} failed: ${tests.verdict}`
  const unread = tests.files.filter((f) => f.status !== 'ok').length + tests.unmatched.length
  if (unread || !tests.files.length) return `fail-on: any, but ${unread || 'no'} test report${unread === 1 ? '' : 's'} could not be read (see the job summary)`
  return undefined
}

/**
 * How long the worker gets for its warm shutdown before it is killed: a worker that answered gets
 * the full bound (Celery 5.7 needs 4–5 s even when idle); one that never worked only needs to
 * release its connections, and a cancelled run must finish inside the runner's 7.5 s window.
 */
function stopGrace(cancelled: NodeJS.Signals | undefined, results: GateResult[]): number {
  if (cancelled) return CANCEL_GRACE_MS
  return results.find((r) => r.id === 'runtime')?.status === 'pass' ? HEALTHY_STOP_GRACE_MS : BROKEN_STOP_GRACE_MS
}
