// Facts read from the worker's lines as they arrive: banner values, the ready line, and the first
// sign of each kind of trouble. Loops that wait for the ping subscribe with `onChange`, so they
// wake the moment something notable is printed instead of at their next poll.
import { classifyLine } from './worker-output.js'
import type { WorkerProcess } from './worker-process.js'

export interface SeenLine {
  line: string
  atMs: number
}

const BANNER_QUEUE = /\.>\s+(\S+)\s+exchange=/
const BANNER_TASK = /^\s+\.\s+(\S+)\s*$/
const MAX_LINES_SINCE_READY = 2000

export class WorkerWatch {
  transport?: string
  results?: string
  ready?: SeenLine
  fatal?: SeenLine
  refused?: SeenLine & { reason: string; transient: boolean }
  denied?: SeenLine & { object: string }
  /** The first line saying a result could not be stored or read, and the column it names. */
  resultStore?: SeenLine & { table?: string; column?: string; cause: string }
  /** Columns Celery said at boot it could not add to its result table, and the first such line. */
  readonly columnsNotAdded: string[] = []
  columnNotAddedLine?: SeenLine
  taskReceived?: SeenLine
  taskSucceeded?: SeenLine
  taskFailed?: SeenLine
  /** What the banner lists: the queues the worker consumes (`.> name exchange=…`) and its tasks. */
  readonly bannerQueues: string[] = []
  bannerTasks: string[] | undefined
  /** Every line from `ready.` on (bounded): what the worker printed while it handled the pings. */
  readonly sinceReady: SeenLine[] = []
  private inTasks = false
  private readonly subscribers = new Set<() => void>()

  constructor(
    private readonly worker: WorkerProcess,
    ids: { nodeName: string; taskId: string }
  ) {
    worker.onLine((line) => {
      const seen = (): SeenLine => ({ line, atMs: worker.elapsed() })
      this.readBanner(line)
      if (this.ready && this.sinceReady.length < MAX_LINES_SINCE_READY) this.sinceReady.push(seen())
      const k = classifyLine(line, ids)
      switch (k.kind) {
        case 'transport':
          this.transport ??= k.value
          break
        case 'results':
          this.results ??= k.value
          break
        case 'ready':
          this.ready ??= seen()
          break
        case 'fatal':
          this.fatal ??= seen()
          break
        case 'db-refused':
          // A definite refusal replaces a transient one; the first of each kind is kept.
          if (!this.refused || (this.refused.transient && !k.transient)) this.refused = { ...seen(), reason: k.reason, transient: k.transient }
          break
        case 'db-denied':
          this.denied ??= { ...seen(), object: k.object }
          break
        case 'result-store':
          // A line naming the column beats a bare BackendStoreError: it says what to add.
          if (!this.resultStore || (!this.resultStore.column && k.column)) this.resultStore = { ...seen(), table: k.table, column: k.column, cause: k.cause }
          break
        case 'result-column-not-added':
          if (!this.columnsNotAdded.includes(k.column) && this.columnsNotAdded.length < 50) this.columnsNotAdded.push(k.column)
          this.columnNotAddedLine ??= seen()
          break
        case 'task-received':
          this.taskReceived ??= seen()
          break
        case 'task-succeeded':
          this.taskSucceeded ??= seen()
          break
        case 'task-failed':
          this.taskFailed ??= seen()
          break
        default:
          return
      }
      this.notify()
    })
    void worker.exited.then(() => this.notify())
  }

  /** Calls `wake` at every notable line and at the worker's exit, until unsubscribed. */
  onChange(wake: () => void): () => void {
    this.subscribers.add(wake)
    return () => this.subscribers.delete(wake)
  }

  /** Resolves at the next notable line or at the worker's exit. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      const unsubscribe = this.onChange(() => {
        unsubscribe()
        resolve()
      })
    })
  }

  get exited() {
    return this.worker.hasExited
  }

  private readBanner(line: string): void {
    const queue = BANNER_QUEUE.exec(line)
    if (queue) this.bannerQueues.push(queue[1] as string)
    if (line.trim() === '[tasks]') {
      this.inTasks = true
      this.bannerTasks = []
      return
    }
    if (!this.inTasks) return
    const task = BANNER_TASK.exec(line)
    if (task) this.bannerTasks?.push(task[1] as string)
    else this.inTasks = false
  }

  private notify(): void {
    for (const wake of [...this.subscribers]) wake()
  }
}
