// The action's main step: the runner's inputs → one session (run/session.ts) → the job summary,
// the outputs, one annotation per failed gate and, with a token, the pull-request feedback.
// Thin on purpose: what the CLI does differently lives in cli.ts, what both do in the session.
import * as core from '@actions/core'
import { Inputs, State, type InputName } from './constants.js'
import { runSession, type SessionHost } from './run/session.js'
import { SecretRegistry } from './secrets.js'
import type { RawInputs } from './settings.js'
import { ActionsSink, annotateFailures, feedbackMarker, logFinishedRun, logGateLine } from './sinks/actions.js'

export async function run(): Promise<void> {
  const secrets = new SecretRegistry((s) => core.setSecret(s))
  const sink = new ActionsSink(secrets)
  const host: SessionHost = {
    info: (line) => core.info(line),
    warning: (message) => core.warning(message),
    gateEnded: (result) => logGateLine(result),
    workerSpawned(pid, runId) {
      core.saveState(State.WorkerPid, String(pid))
      core.saveState(State.RunId, runId)
    },
    workerKept({ outputFile, nodeName }) {
      core.saveState(State.KeptWorkerOutput, outputFile)
      core.info(`The worker ${nodeName} keeps running for the steps that follow, on the app's queues; the post step stops it.`)
    },
    finish(report) {
      sink.write(report)
      logFinishedRun(report)
    },
    exitNow(message) {
      core.setFailed(message)
      process.exit(1)
    }
  }
  const { report, settings, failure } = await runSession(readRawInputs(), host, secrets)
  annotateFailures(report, secrets)
  if (settings?.githubToken) {
    // Feedback never fails the step: every problem there is one warning (github/feedback.ts).
    // Loaded only when asked for: Octokit and its HTTP stack are most of the bundle's start-up.
    const { publishFeedback } = await import('./github/feedback.js')
    await publishFeedback(
      report,
      {
        token: settings.githubToken,
        prComment: settings.prComment,
        checkRun: settings.checkRun,
        marker: feedbackMarker(settings),
        workingDirectory: settings.workingDirectory,
        redact: (text) => secrets.clean(text)
      },
      { info: (m) => core.info(secrets.clean(m)), warning: (m) => core.warning(secrets.clean(m)) }
    )
  }
  if (failure) core.setFailed(failure)
}

function readRawInputs(): RawInputs {
  const raw: RawInputs = {}
  for (const name of Object.values(Inputs) as InputName[]) raw[name] = core.getInput(name)
  return raw
}
