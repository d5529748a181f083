// Watching a step from the outside while it runs, to act at the right moment (stop the database,
// kill the worker, cancel the step): the run id the step saved, its processes in the process table,
// its worker's log, and the memory of a process. Nothing here asks the action; it reads what the
// step leaves on the machine.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parseFileCommands, processesOfRun, type StepFiles } from './action.js'

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** The run id the main step saved for its post step, once the worker was spawned. */
export async function waitForRunId(files: StepFiles, timeoutMs = 20_000): Promise<string> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const runId = parseFileCommands(existsSync(files.state) ? readFileSync(files.state, 'utf8') : '')['run-id']
    if (runId) return runId
    await sleep(50)
  }
  throw new Error('the main step never saved its run id')
}

export async function waitForProcesses(runId: string, atLeast: number, timeoutMs = 30_000): Promise<number[]> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const pids = processesOfRun(runId)
    if (pids.length >= atLeast) return pids
    await sleep(100)
  }
  throw new Error(`fewer than ${atLeast} processes of ${runId} appeared`)
}

/** Where the action writes the (redacted) log of the worker of `runId` on a runner. */
export function workerLogPath(files: StepFiles, runId: string): string {
  return path.join(files.runnerTemp, 'celery-foundation-gates', runId, 'worker.log')
}

/** Waits for the worker's own `<node> ready.` line in its log file (the node name is `<runId>@host`). */
export async function waitForWorkerReady(files: StepFiles, runId: string, timeoutMs = 30_000): Promise<void> {
  const file = workerLogPath(files, runId)
  const ready = new RegExp(`(^|[^\\w.@-])${runId}@\\S+ ready\\.`, 'm')
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (existsSync(file) && ready.test(readFileSync(file, 'utf8'))) return
    await sleep(25)
  }
  throw new Error(`the worker of ${runId} never logged its ready line in ${file}`)
}

/** The PPid line of /proc/<pid>/status, or undefined when the process is gone. */
export function parentPid(pid: number): number | undefined {
  try {
    const m = /^PPid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : undefined
  } catch {
    return undefined
  }
}

/** The worker's main process: the process of the run whose parent is the action itself. */
export async function workerMainPid(runId: string, actionPid: number, timeoutMs = 30_000): Promise<number> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const main = processesOfRun(runId).find((pid) => parentPid(pid) === actionPid)
    if (main) return main
    await sleep(50)
  }
  throw new Error(`no process of ${runId} is a child of the action (pid ${actionPid})`)
}

/**
 * Samples a process's peak resident set (VmHWM, which the kernel keeps as a high-water mark) on a
 * timer until `stop()`, which returns the highest value read, in bytes (0 if never read).
 */
export function trackPeakRss(pid: number, intervalMs = 50): { stop: () => number } {
  let peak = 0
  const sample = (): void => {
    try {
      const m = /^VmHWM:\s*(\d+)\s*kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      if (m) peak = Math.max(peak, Number(m[1]) * 1024)
    } catch {
      // Exited: the last sample stands.
    }
  }
  sample()
  const timer = setInterval(sample, intervalMs)
  return {
    stop: () => {
      clearInterval(timer)
      return peak
    }
  }
}
