// Facts read from the worker's lines as they arrive: banner values, the ready line, and the first
// sign of each kind of trouble. Loops that wait for the ping race against `next()`, so they wake
// the moment something notable is printed instead of at their next poll.
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
  refused?: SeenLine & { reason: string }
  denied?: SeenLine & { object: string }
  taskReceived?: SeenLine
  taskSucceeded?: SeenLine
  taskFailed?: SeenLine
  private wake: (() => void) | undefined
  private nextEvent: Promise<void>

  constructor(
    private readonly worker: WorkerProcess,
    ids: { nodeName: string; taskId: string }
  ) {
    this.nextEvent = this.arm()
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
          this.refused ??= { ...seen(), reason: k.reason }
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

  /** Resolves at the next notable line or at the worker's exit. */
  next(): Promise<void> {
    return this.nextEvent
  }

  get exited() {
    return this.worker.hasExited
  }

  private arm(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve
    })
  }

  private notify(): void {
    const wake = this.wake
    this.nextEvent = this.arm()
    wake?.()
  }
}
