// The worker the action boots: `python bootstrap.py` in the user's working directory, in its own
// process group so that it and its pool children can be stopped together. This file is the
// process's life (spawn, stop, release, kill); its output goes to worker-log.ts, its boot report
// comes over fd 3 (boot-channel.ts), and a kept worker's output file is followed by file-tail.ts.
//
// node:child_process rather than execa (a devDependency the tests use). execa 9 could start this
// worker — its `detached` option is passed through, so a kept worker would survive us — but
// every way it stops a subprocess (kill(), `timeout`, `cancelSignal`, `forceKillAfterDelay`,
// `cleanup`) signals the one PID it started, never the process group with the pool children
// (its lib/terminate/*.js end in the child's own kill), and its result promise, which buffers
// output until the process ends, serves nothing here: the output is read line by line within
// bounds (worker-log.ts). What would be left for execa is the spawn call itself.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { RUN_MARKER_ENV } from '../constants.js'
import { signalGroup } from '../proc/process-group.js'
import type { SecretRegistry } from '../secrets.js'
import { KILL_WAIT_MS, OUTPUT_DRAIN_MS } from '../timing.js'
import { readBootReport, type BootReport } from './boot-channel.js'
import { tailFile } from './file-tail.js'
import { WorkerLog, type LineListener } from './worker-log.js'
import { workerEnvironment } from './worker-env.js'

export type { LineListener } from './worker-log.js'

export const BOOTSTRAP_PATH = fileURLToPath(new URL('./bootstrap.py', import.meta.url))
const BOOT_ENV = 'CELERY_FOUNDATION_GATES_BOOT'

export interface WorkerSpec {
  python: string
  cwd: string
  app: string
  /** Arguments after `celery -A <app> worker`. */
  argv: string[]
  runId: string
  pingTask: string
  taskId: string
  queue: string
  includePingModule: boolean
  /** Replace the run's --queues by what Celery would consume by default, plus the run's queue. */
  queuesFromApp: boolean
  /** Also build a ping for each queue the app uses (the queues gate). */
  pingEachQueue: boolean
  /** A task that fails on purpose, for the dlq gate. */
  probeTask?: string
  logFile: string
  /** Name the worker's database sessions carry (libpq reads PGAPPNAME). */
  applicationName: string
  /**
   * The worker will outlive this process (`keep-worker`): it writes to `outputFile` rather than
   * to pipes this process would take with it when it exits, and it is not tied to our life.
   */
  outputFile?: string
  /** Variables passed to the worker although the rule of worker-env.ts withholds them (`worker-env`). */
  passEnv?: readonly string[]
  /** Where connections.py records each database connection the worker's processes open (rls-role). */
  connectionsFile?: string
}

export interface WorkerExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** Milliseconds after spawn. */
  afterMs: number
  /** Set when the process could not be started at all (ENOENT, EACCES …). */
  spawnError?: string
}

export type StopHow = 'warm' | 'terminated' | 'killed' | 'already-exited'

export class WorkerProcess {
  readonly events: Promise<BootReport>
  readonly exited: Promise<WorkerExit>
  readonly spawnedAt = performance.now()
  private readonly child: ChildProcess
  private readonly output: WorkerLog
  private readonly outputFd: number | undefined
  private stopTail: (() => void) | undefined
  private exit: WorkerExit | undefined

  constructor(
    readonly spec: WorkerSpec,
    secrets: SecretRegistry
  ) {
    this.outputFd = spec.outputFile ? openOutput(spec.outputFile) : undefined
    // The hook only appends: the run's folder must exist before the worker's first connection.
    if (spec.connectionsFile) mkdirSync(path.dirname(spec.connectionsFile), { recursive: true })
    const out = this.outputFd ?? 'pipe'
    this.child = spawn(spec.python, [BOOTSTRAP_PATH], {
      cwd: spec.cwd,
      detached: true, // own process group: pool children are stopped with it
      stdio: ['pipe', out, out, 'pipe'],
      // The job's environment without the runner's and this step's credentials and command files.
      env: workerEnvironment(process.env, spec.passEnv ?? [], {
        [BOOT_ENV]: JSON.stringify({
          app: spec.app,
          argv: spec.argv,
          task: spec.pingTask,
          taskId: spec.taskId,
          queue: spec.queue,
          includePingModule: spec.includePingModule,
          queuesFromApp: spec.queuesFromApp,
          pingEachQueue: spec.pingEachQueue,
          probeTask: spec.probeTask,
          connectionsFile: spec.connectionsFile,
          // A kept worker must not die with us; any other does (PR_SET_PDEATHSIG).
          parentPid: spec.outputFile ? undefined : process.pid
        }),
        [RUN_MARKER_ENV]: spec.runId,
        PGAPPNAME: spec.applicationName,
        // The banner is printed to a pipe; without this it would sit in Python's buffer.
        PYTHONUNBUFFERED: '1'
      })
    })
    this.exited = new Promise((resolve) => {
      const done = (exit: WorkerExit): void => {
        if (this.exit) return
        this.exit = exit
        resolve(exit)
      }
      this.child.once('error', (err: NodeJS.ErrnoException) =>
        done({ code: null, signal: null, afterMs: this.elapsed(), spawnError: spawnErrorText(err, spec.python, spec.cwd) })
      )
      // 'exit' can come before the last output is read; the evidence is in that output, so wait
      // (briefly: a pool child may hold the pipes open) for both streams to end first.
      this.child.once('exit', (code, signal) => {
        const exit = { code, signal, afterMs: this.elapsed() }
        const streams = [this.child.stdout, this.child.stderr].filter((s): s is NonNullable<typeof s> => !!s && !s.readableEnded)
        // Output followed from a file (keep-worker) arrives by the 25 ms poll: give it one more.
        if (spec.outputFile) return void setTimeout(() => done(exit), 60)
        if (!streams.length) return done(exit)
        let open = streams.length
        const timer = setTimeout(() => done(exit), OUTPUT_DRAIN_MS)
        for (const s of streams)
          s.once('end', () => {
            if (--open === 0) {
              clearTimeout(timer)
              done(exit)
            }
          })
      })
    })
    this.events = readBootReport(this.child.stdio[3] as NodeJS.ReadableStream | null, this.exited.then(describeExit), secrets)
    this.output = new WorkerLog(spec.logFile, secrets)
    if (spec.outputFile) {
      // What the worker wrote before this process stops following is read; a last line without
      // its newline is not (the worker is still running).
      const lines = this.output.splitter()
      this.stopTail = tailFile(spec.outputFile, (chunk) => lines.push(chunk))
    }
    this.output.readStream(this.child.stdout)
    this.output.readStream(this.child.stderr)
    // A worker that never reads its stdin must not make our writes fail the process.
    this.child.stdin?.on('error', () => {})
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  get hasExited(): WorkerExit | undefined {
    return this.exit
  }

  elapsed(): number {
    return performance.now() - this.spawnedAt
  }

  onLine(listener: LineListener): void {
    this.output.onLine(listener)
  }

  /** The last lines the worker printed, secrets redacted. */
  lastLines(n?: number): string[] {
    return this.output.lastLines(n)
  }

  logInfo(): { file: string; bytes: number; truncated: boolean } {
    return this.output.info()
  }

  /** Lets the bootstrap hand over to Celery's worker command. */
  go(): void {
    this.command('go')
  }

  /** Tells the bootstrap not to start the worker; it exits by itself. */
  cancel(): void {
    this.command('stop')
  }

  private command(line: string): void {
    const stdin = this.child.stdin
    if (!stdin || stdin.destroyed || this.exit) return
    stdin.end(`${line}\n`)
  }

  /**
   * Warm shutdown (SIGTERM, as Celery documents), then SIGKILL to the whole process group when it
   * lingers. Also kills the group after a clean exit, so no pool child can outlive the run.
   */
  async stop(graceMs: number): Promise<{ how: StopHow; ms: number }> {
    const t0 = performance.now()
    if (this.exit) {
      this.killGroup('SIGKILL')
      return { how: 'already-exited', ms: 0 }
    }
    this.command('stop') // a bootstrap still waiting for `go` exits on this alone
    this.signal('SIGTERM')
    const exitedInTime = await Promise.race([this.exited.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), graceMs).unref())])
    this.killGroup('SIGKILL')
    if (!exitedInTime) await Promise.race([this.exited, new Promise((r) => setTimeout(r, KILL_WAIT_MS).unref())])
    this.stopTail?.()
    if (this.outputFd !== undefined) closeSync(this.outputFd)
    await this.output.close()
    // Celery handles SIGTERM with a warm shutdown and exits by itself; a process that died *of*
    // the signal (a bootstrap still importing, a worker in a blocking call) was terminated.
    const exit = this.hasExited // set meanwhile by the exit handler
    const how: StopHow = !exitedInTime ? 'killed' : exit?.signal === 'SIGTERM' ? 'terminated' : 'warm'
    return { how, ms: performance.now() - t0 }
  }

  /**
   * Leaves the worker running for the rest of the job (`keep-worker`): this process stops reading
   * its output and lets it go; the post step stops it. Only for a worker started with outputFile.
   */
  async release(): Promise<void> {
    this.stopTail?.()
    if (this.outputFd !== undefined) closeSync(this.outputFd)
    this.child.unref()
    for (const s of [this.child.stdin, this.child.stdio[3]]) (s as { destroy?: () => void } | null)?.destroy?.()
    await this.output.close()
  }

  /** Last resort, synchronous: for process exit handlers where nothing async can run. */
  killNow(): void {
    this.killGroup('SIGKILL')
  }

  private signal(sig: NodeJS.Signals): void {
    // The child's own kill, not signalProcess(pid): once Node has reaped the worker it sends
    // nothing, where a bare PID could by then name another process.
    try {
      this.child.kill(sig)
    } catch {
      // Already gone.
    }
  }

  /** The worker leads its own group (spawned detached): the group's id is its PID. */
  private killGroup(sig: NodeJS.Signals): void {
    signalGroup(this.child.pid, sig)
  }
}

function openOutput(file: string): number {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  return openSync(file, 'a', 0o600)
}

function spawnErrorText(err: NodeJS.ErrnoException, python: string, cwd: string): string {
  const given = shownPython(python, cwd)
  if (err.code === 'ENOENT') return `python ${given} was not found (expected a Python 3 interpreter on PATH or a path to one)`
  if (err.code === 'EACCES') return `python ${given} is not executable (expected a Python 3 interpreter)`
  return `could not start python ${given}: ${err.message}`
}

/**
 * The python input as the OS took it: a bare name is looked up on PATH, but a relative path is
 * taken from the worker's directory, working-directory (not from where the step runs), which is
 * easy to miss; so a relative path is shown with the absolute path it resolved to.
 */
function shownPython(python: string, cwd: string): string {
  const given = JSON.stringify(python)
  if (!python.includes('/') || path.isAbsolute(python)) return given
  return `${given} (${path.resolve(cwd, python)}, relative to working-directory)`
}

export function describeExit(exit: WorkerExit): string {
  if (exit.spawnError) return exit.spawnError
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`
  return `the worker process ${how} after ${(exit.afterMs / 1000).toFixed(2)} s`
}
