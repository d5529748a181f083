import { S as SecretRegistry, w as warning, i as info, c as setFailed, d as setSecret, e as saveState, I as Inputs, g as getInput, f as State } from './shared-format.js';
import { b as runSession, c as annotateFailures, f as feedbackMarker, d as ActionsSink, l as logFinishedRun, e as logGateLine } from './shared-actions.js';
import 'node:fs';
import 'node:os';
import 'node:path';
import 'os';
import 'crypto';
import 'fs';
import 'path';
import 'string_decoder';
import 'events';
import 'child_process';
import 'assert';
import 'timers';
import 'node:child_process';
import 'node:url';
import 'node:string_decoder';
import 'node:crypto';

// The action's main step: the runner's inputs → one session (run/session.ts) → the job summary,
// the outputs, one annotation per failed gate and, with a token, the pull-request feedback.
// Thin on purpose: what the CLI does differently lives in cli.ts, what both do in the session.
async function run() {
    const secrets = new SecretRegistry((s) => setSecret(s));
    const sink = new ActionsSink(secrets);
    const host = {
        info: (line) => info(line),
        warning: (message) => warning(message),
        gateEnded: (result) => logGateLine(result),
        workerSpawned(pid, runId) {
            saveState(State.WorkerPid, String(pid));
            saveState(State.RunId, runId);
        },
        workerKept({ outputFile, nodeName }) {
            saveState(State.KeptWorkerOutput, outputFile);
            info(`The worker ${nodeName} keeps running for the steps that follow, on the app's queues; the post step stops it.`);
        },
        finish(report) {
            sink.write(report);
            logFinishedRun(report);
        },
        exitNow(message) {
            setFailed(message);
            process.exit(1);
        }
    };
    const { report, settings, failure } = await runSession(readRawInputs(), host, secrets);
    annotateFailures(report, secrets);
    if (settings?.githubToken) {
        // Feedback never fails the step: every problem there is one warning (github/feedback.ts).
        // Loaded only when asked for: Octokit and its HTTP stack are most of the bundle's start-up.
        const { publishFeedback } = await import('./shared-feedback.js');
        await publishFeedback(report, {
            token: settings.githubToken,
            prComment: settings.prComment,
            checkRun: settings.checkRun,
            marker: feedbackMarker(settings),
            workingDirectory: settings.workingDirectory,
            redact: (text) => secrets.clean(text)
        }, { info: (m) => info(secrets.clean(m)), warning: (m) => warning(secrets.clean(m)) });
    }
    if (failure)
        setFailed(failure);
}
function readRawInputs() {
    const raw = {};
    for (const name of Object.values(Inputs))
        raw[name] = getInput(name);
    return raw;
}

// Exit explicitly: a socket or timer left behind by user code must not hang the step.
run().then(() => process.exit(), (err) => {
    console.error(`::error::Celery foundation gates crashed: ${err?.message ?? String(err)}`);
    process.exit(1);
});
