// Everything one run learns about the user's foundation, gathered once and shared by the gates:
// the probe of the imported app, the booted worker and what it prints, the data-plane ping, and
// the action's own database connection. Work starts as early as possible and overlaps: the worker
// boots (and imports the app) while the action connects and publishes the ping. The gates see it
// through GateFacts (gates/facts.ts: the contract they define and this class implements, a
// type-only import); the session also stops or keeps the worker and reads the report's facts.
import path from 'node:path'
import { classifyDataPlane, type DataPlaneCheck } from '../celery/data-plane.js'
import { pingThroughDataPlane, readFinalResults, type PingOutcome } from '../celery/ping.js'
import { probeOutcomeOf, type BootstrapEvent, type ProbeOutcome } from '../celery/probe.js'
import type { Sent, TraceCleanup } from '../planes/index.js'
import { buildWorkerCommand, type WorkerCommand } from '../celery/worker-args.js'
import { WorkerProcess } from '../celery/worker-process.js'
import { WorkerWatch } from '../celery/worker-watch.js'
import { connect, type Database } from '../db/database.js'
import type { DsnParts } from '../db/dsn.js'
import type { ExtraResult, GateFacts, WorkerLines, WorkerNeed } from '../gates/facts.js'
import { descendants, isAlive } from '../proc/process-tree.js'
import type { GateResult, WorkerInfo } from '../report/model.js'
import type { TestsReport } from '../taxonomy/model.js'
import type { SecretRegistry } from '../secrets.js'
import type { Settings } from '../settings.js'
import { EXTRAS_GRACE_MS, HEALTHY_STOP_GRACE_MS } from '../timing.js'
import { CONNECTIONS_FILE, type IdentityRecord } from '../celery/connections.js'
import { readIdentities } from '../celery/configured.js'
import { runsRoot } from './folder.js'
import { newRunIds } from './ids.js'
import { linesOf } from './worker-lines.js'
import { removeRunTrace } from './trace.js'
import { startSampler, type SampledRecord, type SessionSampler } from './session-sampler.js'

export type { TraceCleanup } from '../planes/index.js'
export { newRunIds } from './ids.js'

export interface RunFactsOptions {
  /** Directory for the worker log; RUNNER_TEMP on a runner. */
  workDir?: string
  onWorkerSpawned?: (pid: number, runId: string) => void
  /** Milliseconds the worker gets to finish a warm shutdown before it is killed. */
  stopGraceMs?: number
  /** What the selected gates need the worker to do beyond the run's ping (engine.ts workerNeeds). */
  fromWorker?: readonly WorkerNeed[]
}

export class RunFacts implements GateFacts {
  readonly ids = newRunIds()
  readonly startedAt = performance.now()
  readonly deadline: number
  readonly command: WorkerCommand
  readonly lines: WorkerLines = linesOf(this)
  worker: WorkerProcess | undefined
  watch: WorkerWatch | undefined
  private readonly abort = new AbortController()
  private probePromise: Promise<ProbeOutcome> | undefined
  private pingPromise: Promise<PingOutcome> | undefined
  private databasePromise: Promise<Database> | undefined
  private brokerConnection: Database | undefined
  private probeAtMs: number | undefined
  private sent: Sent[] = []
  private extrasPromise: Promise<ExtraResult[]> | undefined
  private testsPromise: Promise<TestsReport | undefined> | undefined
  private stopInfo: WorkerInfo['stop']
  private sampler: SessionSampler | undefined

  constructor(
    readonly settings: Settings,
    private readonly secrets: SecretRegistry,
    private readonly options: RunFactsOptions = {}
  ) {
    this.deadline = this.startedAt + settings.timeoutSeconds * 1000
    this.command = buildWorkerCommand(settings.workerArgs, {
      nodeName: this.ids.nodeName,
      queue: this.ids.queue,
      includes: settings.pingTask === 'celery.ping' ? ['celery.contrib.testing.tasks'] : []
    })
  }

  /** Boots the worker (it waits for our `go` after probing) and starts the ping. */
  start(): void {
    if (this.worker) return
    const needs = new Set(this.options.fromWorker)
    // The post step reads the kept worker's output only from inside this folder (run/folder.ts).
    const workDir = this.options.workDir ?? runsRoot()
    const worker = new WorkerProcess(
      {
        python: this.settings.python,
        cwd: this.settings.workingDirectory,
        app: this.settings.app,
        argv: this.command.argv,
        runId: this.ids.runId,
        pingTask: this.settings.pingTask,
        taskId: this.ids.taskId,
        queue: this.ids.queue,
        includePingModule: this.settings.pingTask === 'celery.ping',
        // A kept worker serves the app's own queues too.
        queuesFromApp: !this.command.userQueues && (needs.has('app-queues') || this.settings.keepWorker),
        pingEachQueue: needs.has('app-queues'),
        probeTask: needs.has('probe-task') ? this.settings.dlqProbeTask : undefined,
        logFile: path.join(workDir, this.ids.runId, 'worker.log'),
        outputFile: this.settings.keepWorker ? path.join(workDir, this.ids.runId, 'worker-output.log') : undefined,
        applicationName: this.ids.applicationName,
        passEnv: this.settings.workerEnv,
        connectionsFile: this.connectionsFile
      },
      this.secrets
    )
    this.worker = worker
    this.watch = new WorkerWatch(worker, this.ids)
    if (worker.pid) this.options.onWorkerSpawned?.(worker.pid, this.ids.runId)
    this.probePromise = Promise.race([
      worker.events.then((event) => this.toProbeOutcome(event, worker)),
      this.untilDeadlineOrCancel().then((why): ProbeOutcome => ({
        ok: false,
        kind: 'not-started',
        message:
          why === 'cancelled'
            ? 'cancelled while the app was importing'
            : `the app did not finish importing within ${this.settings.timeoutSeconds} s (does importing it hang, e.g. waiting for a service?)`,
        details: worker.lastLines(20).join('\n') || undefined
      }))
    ])
    this.pingPromise = this.runPing()
    // rls-role's sampling of pg_stat_activity, from spawn (or the probe) until the worker stops.
    if (this.settings.gates.includes('rls-role')) this.sampler = startSampler(this, worker)
    // Nobody may be awaiting these yet; a rejection must not crash the process.
    this.pingPromise.catch(() => {})
  }

  probe(): Promise<ProbeOutcome> {
    this.start()
    return this.probePromise as Promise<ProbeOutcome>
  }

  async dataPlane(): Promise<DataPlaneCheck | undefined> {
    const outcome = await this.probe()
    return outcome.ok ? classifyDataPlane(outcome.probe, this.ids) : undefined
  }

  ping(): Promise<PingOutcome> {
    this.start()
    return this.pingPromise as Promise<PingOutcome>
  }

  async pingAnswered(): Promise<boolean> {
    return (await this.ping()).kind === 'pong'
  }

  private untilDeadlineOrCancel(): Promise<'deadline' | 'cancelled'> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve('deadline'), Math.max(0, this.deadline - performance.now()))
      timer.unref()
      this.abort.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer)
          resolve('cancelled')
        },
        { once: true }
      )
    })
  }

  /**
   * Resolves when the worker printed both banner lines, or will not print them any more: it got
   * ready or exited, the ping's outcome is known, or time ran out.
   */
  async banner(): Promise<{ transport?: string; results?: string }> {
    const watch = this.watch
    if (!watch) return {}
    let pingSettled = false
    void this.ping().then(() => (pingSettled = true))
    while (!(watch.transport && watch.results) && !watch.exited && !watch.ready && !pingSettled && !this.cancelled()) {
      if (performance.now() >= this.deadline) break
      await Promise.race([watch.next(), this.ping(), sleep(Math.min(250, Math.max(0, this.deadline - performance.now())))])
    }
    return { transport: watch.transport, results: watch.results }
  }

  /** Where the action's own SQL checks connect: `database-url`, else the app's broker DSN. */
  async databaseParts(): Promise<{ parts: DsnParts; source: 'input' | 'broker' } | undefined> {
    if (this.settings.databaseUrlParts) return { parts: this.settings.databaseUrlParts, source: 'input' }
    const plane = await this.dataPlane()
    return plane?.ok ? { parts: plane.plane.broker.parts, source: 'broker' } : undefined
  }

  database(): Promise<Database> {
    this.databasePromise ??= (async () => {
      const target = await this.databaseParts()
      if (!target) throw new Error('no PostgreSQL DSN to check: set database-url or configure a PostgreSQL broker')
      return connect(target.parts, { connectTimeoutMs: 5000 })
    })()
    return this.databasePromise
  }

  /**
   * The JUnit reports of `junit`, every failing test classified against this run's gate results
   * (rules may depend on them: a readiness error means something else when the runtime gate
   * failed). Computed once, by the session once the gates that prove something have run (see
   * EngineHooks.beforeJudges), whichever gates the run has: the `ci` gate only judges it.
   */
  tests(gates: readonly GateResult[]): Promise<TestsReport | undefined> {
    const patterns = this.settings.junit
    if (!patterns) return Promise.resolve(undefined)
    // Loaded when there are reports to read: the XML reader, the globber and the compiled shipped
    // rules cost start-up time.
    this.testsPromise ??= Promise.all([this.ping(), import('../taxonomy/analyze.js'), import('../taxonomy/default-rules.js')]).then(
      ([ping, { analyzeTests }, { DEFAULT_RULES }]) =>
        analyzeTests({
          patterns,
          cwd: this.settings.workingDirectory,
          rules: [...this.settings.userRules, ...DEFAULT_RULES],
          rulesFile: this.settings.rulesFile,
          gates,
          values: this.remediationValues(ping)
        })
    )
    return this.testsPromise
  }

  /** Measured facts that remediations quote, e.g. how fast this run's own ping was answered. */
  private remediationValues(ping: PingOutcome): Record<string, string> {
    const values: Record<string, string> = { timeout_s: String(this.settings.timeoutSeconds), pong_ms: 'n/a', pong_after_ready_ms: 'n/a' }
    if (ping.kind === 'pong') {
      values.pong_ms = String(Math.round(ping.pongAtMs))
      const ready = this.watch?.ready
      if (ready) values.pong_after_ready_ms = String(Math.max(0, Math.round(ping.pongAtMs - ready.atMs)))
    }
    return values
  }

  get testsReport(): Promise<TestsReport | undefined> | undefined {
    return this.testsPromise
  }

  /**
   * Why the action's own SQL checks cannot run, when the reason is already known: they connect
   * with the worker's DSN (no `database-url` given) and the database refused exactly that DSN.
   */
  async sqlChecksBlocked(): Promise<string | undefined> {
    if (this.settings.databaseUrl) return undefined
    const ping = await this.ping()
    return ping.kind === 'db-refused'
      ? "not run: the database refused the worker's DSN, which these checks use (`runtime` failed); set database-url to check with another role"
      : undefined
  }

  /**
   * What became of the pings sent to the app's own queues and of the dlq probe task: each result
   * row read back by task id. Waited for once the run's own ping was answered (the worker is then
   * polling), for a few of the broker's poll cycles at most.
   */
  extras(): Promise<ExtraResult[]> {
    this.extrasPromise ??= this.readExtras()
    return this.extrasPromise
  }

  private async readExtras(): Promise<ExtraResult[]> {
    const probe = await this.probe()
    const ping = await this.ping()
    if (!probe.ok) return []
    const items = (probe.probe.extra_payloads ?? []).map((x) => ({ ...x, answered: false as boolean }))
    if (!items.length || ping.kind !== 'pong') return items.map((x) => ({ ...x, status: undefined }))
    const until = Math.min(this.deadline, performance.now() + EXTRAS_GRACE_MS)
    const rows = await readFinalResults(
      await this.database(),
      probe.probe.tables,
      items.map((x) => x.taskId),
      until,
      () => this.cancelled()
    )
    return items.map((x) => ({ ...x, status: rows.get(x.taskId)?.status, worker: rows.get(x.taskId)?.worker ?? undefined }))
  }

  /** The run's folder's record of every database connection the worker's processes opened. */
  get connectionsFile(): string {
    return path.join(this.options.workDir ?? runsRoot(), this.ids.runId, CONNECTIONS_FILE)
  }

  /** Read once the pings it asked for ended: the connections their tasks opened are then recorded;
   * with them, the identities the app configures (written after import). */
  async identities(): Promise<IdentityRecord> {
    await this.ping().catch(() => undefined)
    await this.extrasPromise?.catch(() => undefined)
    return readIdentities(this.connectionsFile, (t) => this.redact(t))
  }

  /** The sessions of the worker's process tree seen in pg_stat_activity from spawn until now. */
  async sampledSessions(): Promise<SampledRecord> {
    await this.ping().catch(() => undefined)
    await this.extrasPromise?.catch(() => undefined)
    return this.sampler ? this.sampler.snapshot() : { identities: [], samples: 0, dropped: 0, note: 'the worker was not started' }
  }

  /** The worker's processes right now (main process and pool children). */
  workerProcessIds(): number[] {
    const pid = this.worker?.pid
    if (!pid || !this.workerRunning()) return []
    return descendants(pid).filter(isAlive)
  }

  workerRunning(): boolean {
    const w = this.worker
    return !!w && !w.hasExited && !!w.pid && isAlive(w.pid)
  }

  cancel(): void {
    this.abort.abort()
  }

  cancelled(): boolean {
    return this.abort.signal.aborted
  }

  /** Outside text (an error, a traceback) as it may be shown: known secrets and credential patterns cut. */
  redact(text: string): string {
    return this.secrets.clean(text)
  }

  msSinceStart(atWorkerMs?: number): number | undefined {
    if (atWorkerMs === undefined || !this.worker) return undefined
    return Math.round(this.worker.spawnedAt - this.startedAt + atWorkerMs)
  }

  get probeMs(): number | undefined {
    return this.probeAtMs
  }

  /**
   * Stops the worker (warm, then killed), removes the run's trace from the broker and result
   * tables where the worker's role may delete, and closes every connection.
   */
  async close(graceMs = this.options.stopGraceMs ?? HEALTHY_STOP_GRACE_MS): Promise<TraceCleanup | undefined> {
    this.cancel()
    const worker = this.worker
    if (worker) {
      const stop = await worker.stop(graceMs)
      this.stopInfo = { how: stop.how, ms: Math.round(stop.ms) }
    } else this.stopInfo = { how: 'not-started', ms: 0 }
    await this.sampler?.stop()
    await this.pingPromise?.catch(() => undefined)
    let cleanup: TraceCleanup | undefined
    if (this.brokerConnection) cleanup = await this.removeTrace(this.brokerConnection)
    await this.brokerConnection?.close()
    const db = await this.databasePromise?.catch(() => undefined)
    await db?.close()
    return cleanup
  }

  /**
   * Leaves the verified worker running for the steps that follow (keep-worker): its pings' trace
   * is removed (the run's own queue row stays: the worker polls it), connections are closed, and
   * the worker is let go. Returns the file its output keeps going to, for the post step.
   */
  async keep(): Promise<{ cleanup?: TraceCleanup; outputFile?: string }> {
    this.cancel()
    const worker = this.worker
    if (!worker?.spec.outputFile) return { cleanup: await this.close() }
    await this.sampler?.stop()
    await this.pingPromise?.catch(() => undefined)
    await this.extrasPromise?.catch(() => undefined)
    const cleanup = this.brokerConnection ? await this.removeTrace(this.brokerConnection, { keepQueue: true }) : undefined
    await this.brokerConnection?.close()
    const db = await this.databasePromise?.catch(() => undefined)
    await db?.close()
    await worker.release()
    this.stopInfo = { how: 'kept', ms: 0 }
    return { cleanup, outputFile: worker.spec.outputFile }
  }

  workerInfo(): WorkerInfo | undefined {
    const w = this.worker
    if (!w) return undefined
    const exit = w.hasExited
    const log = w.logInfo()
    const info: WorkerInfo = {
      nodeName: this.ids.nodeName,
      queue: this.ids.queue,
      argv: ['celery', '-A', this.settings.app, 'worker', ...this.command.argv],
      logTail: w.lastLines(),
      logFile: log.file,
      logBytes: log.bytes,
      logTruncated: log.truncated
    }
    if (w.pid) info.pid = w.pid
    if (this.watch?.ready) info.readyLine = this.watch.ready.line
    if (exit) info.exit = { code: exit.code, signal: exit.signal, afterMs: Math.round(exit.afterMs) }
    if (this.stopInfo) info.stop = this.stopInfo
    return info
  }

  private toProbeOutcome(event: BootstrapEvent | { event: 'no-event'; reason: string }, worker: WorkerProcess): ProbeOutcome {
    this.probeAtMs = Math.round(performance.now() - this.startedAt)
    const seen = { python: this.settings.python, spawnError: worker.hasExited?.spawnError, lastLines: () => worker.lastLines(5).join('\n') }
    return probeOutcomeOf(event, seen, (text) => this.redact(text))
  }

  private async runPing(): Promise<PingOutcome> {
    const outcome = await this.probe()
    const worker = this.worker as WorkerProcess
    if (!outcome.ok) return { kind: 'not-run', reason: 'the app did not import' }
    const plane = classifyDataPlane(outcome.probe, this.ids)
    if (!plane.ok) {
      worker.cancel()
      return { kind: 'not-run', reason: 'the data plane is not PostgreSQL' }
    }
    return pingThroughDataPlane({
      worker,
      watch: this.watch as WorkerWatch,
      probe: outcome.probe,
      plane: plane.plane,
      queue: this.ids.queue,
      taskId: this.ids.taskId,
      deadline: this.deadline,
      signal: this.abort.signal,
      keepConnection: (db) => {
        this.brokerConnection = db
      },
      keepMessages: (sent) => {
        this.sent = sent
      }
    })
  }

  /** Removes what the run published and its worker stored (its data plane's removeTrace). */
  private async removeTrace(db: Database, opts: { keepQueue?: boolean } = {}): Promise<TraceCleanup> {
    const cleanup = await removeRunTrace(db, { probe: await this.probePromise, settings: this.settings, ids: this.ids, sent: this.sent }, opts)
    return cleanup.removed ? cleanup : { removed: false, detail: this.redact(cleanup.detail) }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
