// How a terminal user stops a worker the CLI kept (--keep-worker), as one line to paste into any
// shell. SIGTERM goes to the worker's main process only: that is Celery's warm shutdown, in which
// the main process finishes its tasks and stops its own pool children. Signalling the whole
// process group at once (`kill -TERM -<pid>`) also hits the prefork pool children mid-shutdown,
// and after 35 real tasks the worker then hung until SIGKILL in 4 of 6 tries (this command: 0 of 9;
// test/integration/trust-keep-worker-stop.test.ts). Only if something of the group is still there
// after the bound is the whole group killed, and the command says so.

import { KEPT_WORKER_STOP_GRACE_S } from '../timing.js'

/** Seconds the warm shutdown gets before the group is killed (tasks still running finish first). */
export const STOP_GRACE_S = KEPT_WORKER_STOP_GRACE_S

/** A `sh -c '…'` line (so that it runs the same from bash, zsh or fish) that stops worker `pid`. */
export function stopCommand(pid: number, graceS = STOP_GRACE_S): string {
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`not a worker pid: ${pid}`)
  // `kill -0 -<pgid>` and not `kill -0 -- -<pgid>`: dash (Debian's sh) rejects the `--`.
  const group = `-${pid}`
  return (
    `sh -c 'kill -TERM ${pid}; i=0; ` +
    `while kill -0 ${group} 2>/dev/null && [ $i -lt ${graceS} ]; do sleep 1; i=$((i+1)); done; ` +
    `if kill -0 ${group} 2>/dev/null; then echo "still running after ${graceS} s: killing process group ${pid}" >&2; kill -KILL ${group}; fi'`
  )
}
