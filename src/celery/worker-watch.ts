// Facts read from the worker's lines as they arrive: banner values, the ready line, and the first
// sign of each kind of trouble. Loops that wait for the ping subscribe with `onChange`, so they
// wake the moment something notable is printed instead of at their next poll.
import { classifyLine } from './worker-output.js'
import type { WorkerProcess } from './worker-process.js'

export interface SeenLine {
  line: string
  atMs: number
}

export class WorkerWatch {
  transport?: string
  results?: string
  ready?: SeenLine
  fatal?: SeenLine
  refused?: SeenLine & { reason: string; transient: boolean }
  denied?: SeenLine & { object: string }
  taskReceived?: SeenLine
  taskSucceeded?: SeenLine
  taskFailed?: SeenLine
  private readonly subscribers = new Set<() => void>()

  constructor(
    private readonly worker: WorkerProcess,
    ids: { nodeName: string; taskId: string }
  ) {
    worker.onLine((line) => {
      const seen = (): SeenLine => ({ line, atMs: worker.elapsed() })
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

  private notify(): void {
    for (const wake of [...this.subscribers]) wake()
  }
}
