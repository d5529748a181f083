import { appendFileSync, fstatSync, readSync, closeSync, readdirSync } from 'node:fs';
import { ad as getState, f as State, ae as POST_WARM_SHUTDOWN_MS, w as warning, af as parentOf, ag as signalProcess, o as signalGroup, ah as processGroupOf, i as info, ai as openInsideRunFolder, z as registerEnvironmentSecrets, S as SecretRegistry, F as formatCount, N as inlineCode, X as detailsBlock, a7 as preBlock, y as isAlive, aj as environValue, ak as POST_KILL_CONFIRM_MS, R as RUN_MARKER_ENV } from './shared-format.js';
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

// The post step: stops whatever the main step left running — a worker kept for the job on purpose
// (keep-worker), or one a killed main step could not stop. It finds the run's processes by the
// marker in their environment, not by a PID alone, so it never signals a process that merely
// reused the PID. It only ever warns: cleanup must not fail a job whose gates passed.
/** The end of a kept worker's output shown in the post step's summary. */
const TAIL_BYTES = 48 * 1024;
async function runCleanup() {
    try {
        const runId = getState(State.RunId);
        if (!runId)
            return;
        const kept = getState(State.KeptWorkerOutput);
        const t0 = performance.now();
        const stopped = await stopRunProcesses(runId);
        const ms = Math.round(performance.now() - t0);
        if (kept)
            reportKeptWorker(runId, kept, stopped.length, ms);
        else if (stopped.length)
            warning(`Stopped ${stopped.length} worker process(es) left running by the main step (run ${runId}).`);
    }
    catch (err) {
        warning(`Cleanup could not finish: ${err.message}`);
    }
}
/**
 * The kept worker's stop and the end of its log, in this step's summary. The state is only a hint:
 * anything that ran in the job could write it, so the log is read only from inside the run's own
 * folder (run/folder.ts), after the worker was stopped; any other path is refused with one warning.
 */
function reportKeptWorker(runId, outputFile, stopped, ms) {
    info(`Stopped the worker kept for the job (run ${runId}): ${stopped} process(es) in ${ms} ms`);
    const fd = openInsideRunFolder(runId, outputFile);
    if (fd === undefined) {
        warning(`The kept worker's log is not shown: the path saved for it is not a file inside this run's folder (run ${runId}), so this step does not read it.`);
        return;
    }
    const { text, bytes } = readEnd(fd, TAIL_BYTES);
    info(`The kept worker's output: ${outputFile}`);
    const summary = process.env.GITHUB_STEP_SUMMARY;
    if (!summary)
        return;
    // This step has no registry of the main step's secrets: it builds one from the same
    // environment (the job's, plus this action's inputs) and cuts credential patterns too.
    const secrets = new SecretRegistry();
    registerEnvironmentSecrets(process.env, secrets);
    const lines = text.split('\n').map((line) => secrets.clean(line));
    const shown = bytes > TAIL_BYTES ? `the last ${formatCount(TAIL_BYTES)} of ${formatCount(bytes)} bytes` : `${formatCount(bytes)} bytes`;
    appendFileSync(summary, [
        `## Celery worker kept for the job`,
        '',
        `The worker the gates verified (run ${inlineCode(runId)}) served the steps after them; this post step stopped it (${stopped} process(es), ${formatCount(ms)} ms: warm shutdown, then killed if it lingered).`,
        '',
        detailsBlock(`Worker log (${shown})`, `Full log: ${inlineCode(outputFile)}\n\n${preBlock(lines.join('\n'))}`),
        ''
    ].join('\n'));
}
/** Reads the end of an open file, and closes it. */
function readEnd(fd, maxBytes) {
    try {
        const bytes = fstatSync(fd).size;
        const length = Math.min(bytes, maxBytes);
        const buffer = Buffer.alloc(length);
        readSync(fd, buffer, 0, length, bytes - length);
        // Drop a cut first line rather than show half of it.
        const text = buffer.toString('utf8');
        return { text: bytes > length ? text.slice(text.indexOf('\n') + 1) : text, bytes };
    }
    catch {
        return { text: '(the worker log could not be read)', bytes: 0 };
    }
    finally {
        closeSync(fd);
    }
}
/** Every live process carrying this run's marker: the worker and its pool children. */
function runProcesses(runId) {
    const pids = [];
    for (const entry of safeList('/proc')) {
        if (!/^\d+$/.test(entry))
            continue;
        const pid = Number(entry);
        if (pid !== process.pid && isAlive(pid) && environValue(pid, RUN_MARKER_ENV) === runId)
            pids.push(pid);
    }
    return pids;
}
async function stopRunProcesses(runId, warmMs = POST_WARM_SHUTDOWN_MS) {
    const found = runProcesses(runId);
    if (!found.length)
        return [];
    // Warm shutdown goes to the worker's main process; it stops its own pool children.
    for (const pid of found)
        if (!found.includes(parentOf(pid) ?? -1))
            signalProcess(pid, 'SIGTERM');
    const until = Date.now() + warmMs;
    while (Date.now() < until && runProcesses(runId).length)
        await new Promise((r) => setTimeout(r, 100));
    // Killed whole process groups at a time, and again until none is left: a prefork worker's
    // main process still alive between the scan and the kill forks a new pool child, and a killed
    // process lingers in /proc for a moment (seen once in CI: one process left).
    const killUntil = Date.now() + POST_KILL_CONFIRM_MS;
    for (let left = runProcesses(runId); left.length && Date.now() < killUntil; left = runProcesses(runId)) {
        for (const pid of left) {
            // Never our own group (signalGroup refuses it): the worker runs in a group of its own.
            signalGroup(processGroupOf(pid), 'SIGKILL');
            signalProcess(pid, 'SIGKILL');
        }
        await new Promise((r) => setTimeout(r, 50));
    }
    return found;
}
function safeList(dir) {
    try {
        return readdirSync(dir);
    }
    catch {
        return [];
    }
}

void runCleanup().then(() => process.exit(0));
