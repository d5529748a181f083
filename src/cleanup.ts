// The post step: stops whatever the main step left running (a main step killed by the runner
// cannot stop its worker itself). It finds the run's processes by the marker in their
// environment, not by a PID alone, so it never signals a process that merely reused the PID.
// It only ever warns: cleanup must not fail a job whose gates passed.
import { readdirSync } from 'node:fs'
import * as core from '@actions/core'
import { RUN_MARKER_ENV, State } from './constants.js'
import { environValue, isAlive, parentOf } from './proc/process-tree.js'

const WARM_SHUTDOWN_MS = 10_000

export async function runCleanup(): Promise<void> {
  try {
    const runId = core.getState(State.RunId)
    if (!runId) return
    const stopped = await stopRunProcesses(runId)
    if (stopped.length) core.warning(`Stopped ${stopped.length} worker process(es) left running by the main step (run ${runId}).`)
  } catch (err) {
    core.warning(`Cleanup could not finish: ${(err as Error).message}`)
  }
}

/** Every live process carrying this run's marker: the worker and its pool children. */
export function runProcesses(runId: string): number[] {
  const pids: number[] = []
  for (const entry of safeList('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    if (pid !== process.pid && isAlive(pid) && environValue(pid, RUN_MARKER_ENV) === runId) pids.push(pid)
  }
  return pids
}

export async function stopRunProcesses(runId: string, warmMs = WARM_SHUTDOWN_MS): Promise<number[]> {
  const found = runProcesses(runId)
  if (!found.length) return []
  // Warm shutdown goes to the worker's main process; it stops its own pool children.
  for (const pid of found) if (!found.includes(parentOf(pid) ?? -1)) signal(pid, 'SIGTERM')
  const until = Date.now() + warmMs
  while (Date.now() < until && runProcesses(runId).length) await new Promise((r) => setTimeout(r, 100))
  for (const pid of runProcesses(runId)) signal(pid, 'SIGKILL')
  return found
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    // Gone already.
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}
