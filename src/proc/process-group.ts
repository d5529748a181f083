// Signals to one process or to a whole process group, for the two places that stop a worker: the
// main step (celery/worker-process.ts, which spawned it detached, so its PID leads its own group)
// and the post step (cleanup.ts, which finds the run's processes by their marker). A prefork
// worker's pool children share its group, so one signal to the group reaches all of them.
import { processGroupOf } from './process-tree.js'

/** Sends `sig` to one process; a process already gone is not an error. */
export function signalProcess(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    // ESRCH: gone already.
  }
}

/**
 * Sends `sig` to every process in group `group`; returns whether it did. Never to group 0 or 1
 * (`kill(-1)` reaches every process we may signal), nor to our own group: that check reads /proc;
 * without it, both callers still only name groups of workers spawned detached, never ours.
 */
export function signalGroup(group: number | undefined, sig: NodeJS.Signals): boolean {
  if (group === undefined || !Number.isInteger(group) || group <= 1 || group === processGroupOf(process.pid)) return false
  try {
    process.kill(-group, sig)
  } catch {
    // ESRCH: the group is empty.
  }
  return true
}
