import { readdirSync } from 'node:fs';
import { m as getState, S as State, w as warning, p as parentOf, i as isAlive, n as environValue, R as RUN_MARKER_ENV } from './chunk-process-tree.js';
import 'os';
import 'crypto';
import 'fs';
import 'path';
import 'http';
import 'https';
import 'net';
import 'tls';
import 'events';
import 'assert';
import 'util';
import 'node:assert';
import 'node:net';
import 'node:http';
import 'node:stream';
import 'node:buffer';
import 'node:util';
import 'node:querystring';
import 'node:events';
import 'node:diagnostics_channel';
import 'node:tls';
import 'node:zlib';
import 'node:perf_hooks';
import 'node:util/types';
import 'node:worker_threads';
import 'node:url';
import 'node:async_hooks';
import 'node:console';
import 'node:dns';
import 'string_decoder';
import 'child_process';
import 'timers';

// The post step: stops whatever the main step left running (a main step killed by the runner
// cannot stop its worker itself). It finds the run's processes by the marker in their
// environment, not by a PID alone, so it never signals a process that merely reused the PID.
// It only ever warns: cleanup must not fail a job whose gates passed.
const WARM_SHUTDOWN_MS = 10_000;
async function runCleanup() {
    try {
        const runId = getState(State.RunId);
        if (!runId)
            return;
        const stopped = await stopRunProcesses(runId);
        if (stopped.length)
            warning(`Stopped ${stopped.length} worker process(es) left running by the main step (run ${runId}).`);
    }
    catch (err) {
        warning(`Cleanup could not finish: ${err.message}`);
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
async function stopRunProcesses(runId, warmMs = WARM_SHUTDOWN_MS) {
    const found = runProcesses(runId);
    if (!found.length)
        return [];
    // Warm shutdown goes to the worker's main process; it stops its own pool children.
    for (const pid of found)
        if (!found.includes(parentOf(pid) ?? -1))
            signal(pid, 'SIGTERM');
    const until = Date.now() + warmMs;
    while (Date.now() < until && runProcesses(runId).length)
        await new Promise((r) => setTimeout(r, 100));
    for (const pid of runProcesses(runId))
        signal(pid, 'SIGKILL');
    return found;
}
function signal(pid, sig) {
    try {
        process.kill(pid, sig);
    }
    catch {
        // Gone already.
    }
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
