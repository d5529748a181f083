// The worker's output as the gates see it (GateFacts.lines): live reads of the booted process and
// its watcher, which exist only once the run started — hence getters, not a snapshot.
import type { WorkerCommand } from '../celery/worker-args.js'
import type { WorkerProcess } from '../celery/worker-process.js'
import type { WorkerWatch } from '../celery/worker-watch.js'
import type { WorkerLines } from '../gates/facts.js'

/** What of the run the lines are read from (RunFacts). */
export interface WorkerSource {
  readonly command: WorkerCommand
  readonly watch: WorkerWatch | undefined
  readonly worker: WorkerProcess | undefined
}

/** The worker's output as GateFacts shows it: live reads of the process and its watcher. */
export function linesOf(facts: WorkerSource): WorkerLines {
  return {
    get loglevel() {
      return facts.command.loglevel
    },
    get ready() {
      return facts.watch?.ready
    },
    get bannerTasks() {
      return facts.watch?.bannerTasks
    },
    get bannerQueues() {
      return facts.watch?.bannerQueues ?? []
    },
    get sinceReady() {
      return facts.watch?.sinceReady ?? []
    },
    lastLines: (n) => facts.worker?.lastLines(n) ?? [],
    elapsedMs: () => facts.worker?.elapsed()
  }
}
