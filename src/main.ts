// The action's main step: inputs → settings → gates → report → sinks. Thin on purpose; the run
// itself lives in run/facts.ts and the gates in gates/. Whatever happens — an input error, a
// cancellation, a crash — the summary, the outputs and the report are written.
import { randomUUID } from 'node:crypto'
import * as core from '@actions/core'
import { Inputs, State, type InputName } from './constants.js'
import { parseDsn } from './db/dsn.js'
import { errorLine, runGates } from './engine.js'
import { ALL_GATES, selectGates } from './gates/index.js'
import { onCancellation } from './lifecycle.js'
import { addPingFacts, buildReport, type ReportInput } from './report/build.js'
import { stripControlCharacters } from './report/escape.js'
import type { GateResult, RunReport } from './report/model.js'
import { statusLabel } from './report/status.js'
import { renderMatrixText } from './report/text.js'
import { RunFacts, newRunIds } from './run/facts.js'
import { SecretRegistry } from './secrets.js'
import { GATE_OF_INPUT, InputError, parseSettings, type RawInputs, type Settings } from './settings.js'
import { ActionsSink } from './sinks/actions.js'

/** Warm-shutdown bounds: see stopGrace. */
const CANCEL_GRACE_MS = 4000
const HEALTHY_STOP_GRACE_MS = 10_000
const BROKEN_STOP_GRACE_MS = 2000

type Base = Pick<ReportInput, 'gates' | 'startedAt' | 'startedMs' | 'failOn'>

export async function run(): Promise<void> {
  const base: Base = { gates: ALL_GATES, startedAt: new Date(), startedMs: performance.now(), failOn: 'foundation' }
  const secrets = new SecretRegistry((s) => core.setSecret(s))
  const sink = new ActionsSink(secrets)
  try {
    const raw = readRawInputs()
    // Before anything can print it: the DSN given as input and its password.
    secrets.addExact(raw[Inputs.DatabaseUrl])
    secrets.add(parseDsn(raw[Inputs.DatabaseUrl] ?? '')?.password)
    base.failOn = raw[Inputs.FailOn] || 'foundation'
    let settings: Settings
    try {
      settings = parseSettings(raw)
    } catch (err) {
      if (!(err instanceof InputError)) throw err
      const message = secrets.redact(err.message)
      const interrupted = { kind: 'input-error' as const, message }
      finish(sink, buildReport({ ...base, results: [], runId: newRunIds().runId, interrupted, inputErrorGate: GATE_OF_INPUT[err.input] }))
      core.setFailed(message)
      return
    }
    // Only the gates asked for are run and shown; a gate turned off never blocks another.
    await runGatesAndReport(settings, secrets, sink, { ...base, gates: selectGates(settings.gates) })
  } catch (err) {
    // Last line of defence: a bug must still leave a summary that says so.
    const message = secrets.redact(`the action crashed: ${errorLine(err)}`)
    finish(sink, buildReport({ ...base, results: [], runId: newRunIds().runId, interrupted: { kind: 'crash', message } }))
    core.setFailed(message)
  }
}

async function runGatesAndReport(settings: Settings, secrets: SecretRegistry, sink: ActionsSink, base: Base): Promise<void> {
  const facts = new RunFacts(settings, secrets, {
    onWorkerSpawned: (pid, runId) => {
      core.saveState(State.WorkerPid, String(pid))
      core.saveState(State.RunId, runId)
    }
  })
  const results: GateResult[] = []
  const reportInput = (extra: Partial<ReportInput>): ReportInput => ({
    ...base,
    results,
    runId: facts.ids.runId,
    failOn: settings.failOn,
    settings,
    facts,
    ...extra
  })
  let cancelled: NodeJS.Signals | undefined
  const stopListening = onCancellation({
    cancel(signal) {
      cancelled = signal
      core.warning(`Received ${signal}: stopping the worker and writing the summary`)
      facts.cancel()
    },
    hurry(signal) {
      // No time for a warm shutdown: kill the worker group and write what we have, synchronously.
      facts.worker?.killNow()
      finish(sink, buildReport(reportInput({ interrupted: { kind: 'cancelled', message: `cancelled by ${signal}` } })))
      core.setFailed(`Cancelled by ${signal}`)
      process.exit(1)
    }
  })

  let crash: unknown
  let cleanup
  facts.start()
  try {
    await runGates(base.gates, settings, facts, {
      onGateEnd: (r) => {
        results.push(r)
        core.info(neutralizeCommands(`${statusLabel(r.status).padEnd(7)} ${r.id}: ${r.evidence.split('\n')[0]}`))
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
      if (kept.outputFile) {
        core.saveState(State.KeptWorkerOutput, kept.outputFile)
        core.info(`The worker ${facts.ids.nodeName} keeps running for the steps that follow, on the app's queues; the post step stops it.`)
      }
    } else cleanup = await facts.close(stopGrace(cancelled, results))
  } catch (err) {
    crash ??= err
  }
  const workerStopMs = Math.round(performance.now() - base.startedMs)
  const interrupted: RunReport['interrupted'] = cancelled
    ? { kind: 'cancelled', message: `cancelled by ${cancelled}` }
    : crash
      ? { kind: 'crash', message: secrets.redact(`the action crashed: ${errorLine(crash)}`) }
      : undefined
  const report = buildReport(reportInput({ interrupted, cleanup, gatesMs, workerStopMs }))
  await addPingFacts(report, facts).catch(() => {})
  finish(sink, report)
  stopListening()

  const failure = stepFailure(report, settings)
  if (interrupted) core.setFailed(interrupted.message)
  else if (failure) core.setFailed(failure)
}

/** Why the step fails under `fail-on`, or undefined when it passes. */
function stepFailure(report: RunReport, settings: Settings): string | undefined {
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

function readRawInputs(): RawInputs {
  const raw: RawInputs = {}
  for (const name of Object.values(Inputs) as InputName[]) raw[name] = core.getInput(name)
  return raw
}

function finish(sink: ActionsSink, report: RunReport): void {
  sink.write(report)
  core.info('')
  core.info(renderMatrixText(report))
  const tail = report.worker?.logTail ?? []
  if (tail.length) {
    core.startGroup(`Worker log (last ${Math.min(tail.length, 60)} lines; full log: ${report.worker?.logFile ?? 'n/a'})`)
    // The worker's output is outside text: a line starting with `::` must not become a workflow
    // command (set an output, add a mask, stop the log …), so the runner is told to ignore them.
    const token = randomUUID()
    core.info(`::stop-commands::${token}`)
    for (const line of tail.slice(-60)) core.info(line)
    core.info(`::${token}::`)
    core.endGroup()
  }
}

/** One line of outside text for the log: no control characters, no workflow command. */
function neutralizeCommands(line: string): string {
  return stripControlCharacters(line).replace(/^(\s*)::/, '$1: :')
}
