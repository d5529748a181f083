// The worker the action boots: `python bootstrap.py` in the user's working directory, in its own
// process group so that it and its pool children can be stopped together. Its output goes into a
// bounded ring of recent lines (for evidence) and a bounded, redacted log file (for the report);
// a worker that floods megabytes of tracebacks per second costs memory only up to those bounds.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, createWriteStream, mkdirSync, openSync, readSync, type WriteStream } from 'node:fs'
import { StringDecoder } from 'node:string_decoder'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { RUN_MARKER_ENV } from '../constants.js'
import { registerSecretsInText, type SecretRegistry } from '../secrets.js'
import { parseDsn } from '../db/dsn.js'
import { parseBootstrapEvent, type BootstrapEvent } from './probe.js'
import { workerEnvironment } from './worker-env.js'

export const BOOTSTRAP_PATH = fileURLToPath(new URL('./bootstrap.py', import.meta.url))
const BOOT_ENV = 'CELERY_FOUNDATION_GATES_BOOT'

const TAIL_LINES = 200
// JSON log records carry whole tracebacks on one line.
const MAX_LINE_CHARS = 16_000
const MAX_LOG_FILE_BYTES = 8 * 1024 * 1024

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
}

export interface WorkerExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** Milliseconds after spawn. */
  afterMs: number
  /** Set when the process could not be started at all (ENOENT, EACCES …). */
  spawnError?: string
}

export type LineListener = (line: string) => void

export type StopHow = 'warm' | 'terminated' | 'killed' | 'already-exited'

export class WorkerProcess {
  readonly events: Promise<BootstrapEvent | { event: 'no-event'; reason: string }>
  readonly exited: Promise<WorkerExit>
  readonly spawnedAt = performance.now()
  private readonly child: ChildProcess
  private readonly tail: string[] = []
  private readonly listeners: LineListener[] = []
  private log: WriteStream | undefined
  private readonly outputFd: number | undefined
  private stopTail: (() => void) | undefined
  private pendingTail = ''
  private logBytes = 0
  private logTruncated = false
  private exit: WorkerExit | undefined

  constructor(
    readonly spec: WorkerSpec,
    private readonly secrets: SecretRegistry
  ) {
    this.outputFd = spec.outputFile ? openOutput(spec.outputFile) : undefined
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
        const timer = setTimeout(() => done(exit), 200)
        for (const s of streams)
          s.once('end', () => {
            if (--open === 0) {
              clearTimeout(timer)
              done(exit)
            }
          })
      })
    })
    this.events = this.readEvents()
    this.openLog()
    if (spec.outputFile) this.stopTail = tailFile(spec.outputFile, (chunk) => this.acceptChunk(chunk))
    this.readLines(this.child.stdout)
    this.readLines(this.child.stderr)
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
    this.listeners.push(listener)
  }

  /** The last lines the worker printed, secrets redacted. */
  lastLines(n = TAIL_LINES): string[] {
    return this.tail.slice(-n)
  }

  logInfo(): { file: string; bytes: number; truncated: boolean } {
    return { file: this.spec.logFile, bytes: this.logBytes, truncated: this.logTruncated }
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
    const exitedInTime = await Promise.race([
      this.exited.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), graceMs).unref())
    ])
    this.killGroup('SIGKILL')
    if (!exitedInTime) await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000).unref())])
    this.stopTail?.()
    if (this.outputFd !== undefined) closeSync(this.outputFd)
    await this.closeLog()
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
    await this.closeLog()
  }

  /** Last resort, synchronous: for process exit handlers where nothing async can run. */
  killNow(): void {
    this.killGroup('SIGKILL')
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      this.child.kill(sig)
    } catch {
      // Already gone.
    }
  }

  private killGroup(sig: NodeJS.Signals): void {
    const pid = this.child.pid
    if (!pid) return
    try {
      process.kill(-pid, sig)
    } catch {
      // ESRCH: the group is empty.
    }
  }

  private readEvents(): Promise<BootstrapEvent | { event: 'no-event'; reason: string }> {
    const channel = this.child.stdio[3] as NodeJS.ReadableStream | null
    return new Promise((resolve) => {
      if (!channel) {
        resolve({ event: 'no-event', reason: 'no event channel' })
        return
      }
      let buffer = ''
      let settled = false
      const settle = (value: BootstrapEvent | { event: 'no-event'; reason: string }): void => {
        if (settled) return
        settled = true
        resolve(value)
      }
      channel.setEncoding('utf8')
      channel.on('data', (chunk: string) => {
        buffer += chunk
        const nl = buffer.indexOf('\n')
        if (nl < 0) return
        settle(this.parseEvent(buffer.slice(0, nl)))
      })
      channel.on('error', () => {})
      channel.on('close', () => settle({ event: 'no-event', reason: 'the bootstrap closed its event channel without a report' }))
      void this.exited.then((exit) =>
        // Give the channel a moment to deliver a report written just before exit.
        setTimeout(() => settle({ event: 'no-event', reason: describeExit(exit) }), 50)
      )
    })
  }

  private parseEvent(line: string): BootstrapEvent | { event: 'no-event'; reason: string } {
    let raw: unknown
    try {
      raw = JSON.parse(line)
    } catch {
      return { event: 'no-event', reason: 'the bootstrap wrote something that is not JSON' }
    }
    // Register every URL and password the event carries before anything reads it.
    collectSecrets(raw, this.secrets)
    const parsed = parseBootstrapEvent(raw)
    if (!parsed.success) {
      const where = parsed.error.issues[0]?.path.join('.') ?? '?'
      return { event: 'no-event', reason: `the bootstrap's report has an unexpected shape at ${where}` }
    }
    return parsed.data
  }

  private readLines(stream: NodeJS.ReadableStream | null): void {
    if (!stream) return
    let pending = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      pending += chunk
      let start = 0
      let nl: number
      while ((nl = pending.indexOf('\n', start)) >= 0) {
        this.acceptLine(pending.slice(start, nl))
        start = nl + 1
      }
      pending = pending.slice(start)
      // A runaway line without newline is cut rather than grown without bound.
      if (pending.length > MAX_LINE_CHARS * 4) {
        this.acceptLine(pending)
        pending = ''
      }
    })
    stream.on('end', () => {
      if (pending) this.acceptLine(pending)
    })
    stream.on('error', () => {})
  }

  /** Output read from the worker's output file (keep-worker), split into lines. */
  private acceptChunk(chunk: string): void {
    const text = this.pendingTail + chunk
    const lines = text.split('\n')
    this.pendingTail = lines.pop() ?? ''
    for (const line of lines) this.acceptLine(line)
  }

  private acceptLine(rawLine: string): void {
    const trimmed = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine
    const clipped = trimmed.length > MAX_LINE_CHARS ? `${trimmed.slice(0, MAX_LINE_CHARS)} …[line cut]` : trimmed
    // Known secrets and credential patterns are cut before the line is kept, logged or listened to.
    const line = this.secrets.clean(clipped)
    this.tail.push(line)
    if (this.tail.length > TAIL_LINES * 2) this.tail.splice(0, this.tail.length - TAIL_LINES)
    this.writeLog(line)
    for (const listener of this.listeners) listener(line)
  }

  private openLog(): void {
    try {
      mkdirSync(path.dirname(this.spec.logFile), { recursive: true })
      this.log = createWriteStream(this.spec.logFile, { flags: 'w' })
      this.log.on('error', () => {
        this.log = undefined
      })
    } catch {
      this.log = undefined
    }
  }

  private writeLog(line: string): void {
    const bytes = Buffer.byteLength(line) + 1
    this.logBytes += bytes
    if (!this.log || this.logTruncated) return
    if (this.logBytes > MAX_LOG_FILE_BYTES) {
      this.logTruncated = true
      this.log.write(`[log truncated: the worker printed more than ${MAX_LOG_FILE_BYTES} bytes]\n`)
      return
    }
    this.log.write(`${line}\n`)
  }

  private closeLog(): Promise<void> {
    const log = this.log
    this.log = undefined
    if (!log) return Promise.resolve()
    return new Promise((resolve) => log.end(() => resolve()))
  }
}

function openOutput(file: string): number {
  mkdirSync(path.dirname(file), { recursive: true })
  return openSync(file, 'a')
}

/**
 * Follows a file as it grows (what a kept worker writes), every 25 ms: a pipe would break when
 * this process exits, a file does not. Returns a function that stops following.
 */
function tailFile(file: string, onChunk: (text: string) => void): () => void {
  let offset = 0
  let busy = false
  const decoder = new StringDecoder('utf8')
  const buffer = Buffer.alloc(256 * 1024)
  const timer = setInterval(() => {
    if (busy) return
    busy = true
    try {
      const fd = openSync(file, 'r')
      try {
        let n: number
        while ((n = readSync(fd, buffer, 0, buffer.length, offset)) > 0) {
          offset += n
          onChunk(decoder.write(buffer.subarray(0, n)))
        }
      } finally {
        closeSync(fd)
      }
    } catch {
      // Not there yet, or gone: try again next time.
    } finally {
      busy = false
    }
  }, 25)
  timer.unref()
  return () => clearInterval(timer)
}

/** Registers every password and every URL carrying credentials found in a bootstrap event. */
function collectSecrets(value: unknown, secrets: SecretRegistry, key = ''): void {
  if (typeof value === 'string') {
    if (key === 'password') secrets.add(value)
    else if ((key === 'url' || key === 'urls') && value.includes('@')) {
      secrets.addExact(value)
      secrets.add(parseDsn(value)?.password)
    } else {
      // An import error's message or traceback may quote a DSN the environment did not hold
      // (built in code): registered here, it is masked before the evidence is printed.
      registerSecretsInText(value, secrets)
    }
    return
  }
  if (Array.isArray(value)) for (const v of value) collectSecrets(v, secrets, key)
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) collectSecrets(v, secrets, k)
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
