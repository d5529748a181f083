// Each gate's judgement, from facts given as a plain object (test/support/gate-facts.ts): what
// the gate concludes from a probe, a ping, the worker's lines, the extra pings. What a gate checks
// with SQL is proven against a real PostgreSQL by the integration tests; here only the paths that
// decide before (or instead of) the database.
import { describe, expect, it } from 'vitest'
import { classifyDataPlane } from '../../src/celery/data-plane.js'
import type { PingOutcome } from '../../src/celery/ping.js'
import { brokerConfigGate } from '../../src/gates/broker-config.js'
import { ciGate } from '../../src/gates/ci.js'
import { dbAccessGate } from '../../src/gates/db-access.js'
import { dlqGate } from '../../src/gates/dlq.js'
import type { ExtraResult, GateFacts } from '../../src/gates/facts.js'
import type { Gate, GateOutcome } from '../../src/gates/gate.js'
import { importGate } from '../../src/gates/import.js'
import { ALL_GATES } from '../../src/gates/index.js'
import { logsGate } from '../../src/gates/logs.js'
import { queuesGate } from '../../src/gates/queues.js'
import { rlsRoleGate } from '../../src/gates/rls-role.js'
import { runtimeGate } from '../../src/gates/runtime.js'
import { tasksGate } from '../../src/gates/tasks.js'
import { tenantIsolationGate } from '../../src/gates/tenant-isolation.js'
import { GATE_IDS } from '../../src/constants.js'
import { workerNeeds } from '../../src/engine.js'
import type { GateResult } from '../../src/report/model.js'
import { parseSettings, type RawInputs, type Settings } from '../../src/settings.js'
import type { TestsReport } from '../../src/taxonomy/model.js'
import { plainFacts, probeReport, type PlainFacts } from '../support/gate-facts.js'

const settingsWith = (raw: RawInputs = {}): Settings => parseSettings({ app: 'app.celery_app', ...raw })

function judge(gate: Gate, facts: PlainFacts = {}, opts: { settings?: Settings; earlier?: GateResult[] } = {}): Promise<GateOutcome> {
  return gate.run({ settings: opts.settings ?? settingsWith(), facts: plainFacts(facts), earlier: opts.earlier ?? [] })
}

const probed = (over: Parameters<typeof probeReport>[0] = {}): Pick<GateFacts, 'probe' | 'dataPlane'> => {
  const probe = probeReport(over)
  return { probe: () => Promise.resolve({ ok: true, probe }), dataPlane: () => Promise.resolve(classifyDataPlane(probe)) }
}
const pong = (value: unknown = 'pong', display = "'pong'"): PingOutcome => ({
  kind: 'pong',
  result: { value, encoding: 'json', display },
  publishedAtMs: 900,
  pongAtMs: 1000
})
const answered = (ping: PingOutcome): Pick<GateFacts, 'ping'> => ({ ping: () => Promise.resolve(ping) })
const refused = (): Pick<GateFacts, 'database'> => ({
  database: () => Promise.reject(new Error('password authentication failed for user "worker" (pw s3cret)'))
})

describe('the gates', () => {
  it('are the public gate ids, in matrix order, and each needs only gates before it', () => {
    expect(ALL_GATES.map((g) => g.id)).toEqual([...GATE_IDS])
    ALL_GATES.forEach((g, i) => {
      for (const need of g.needs) expect(GATE_IDS.indexOf(need)).toBeLessThan(i)
    })
  })

  it('say what they need from the worker: queues the app queues, dlq the probe task', () => {
    expect(workerNeeds(ALL_GATES)).toEqual(['app-queues', 'probe-task'])
    expect(workerNeeds([queuesGate])).toEqual(['app-queues'])
    expect(workerNeeds([dlqGate, runtimeGate])).toEqual(['probe-task'])
    expect(workerNeeds(ALL_GATES.filter((g) => g !== queuesGate && g !== dlqGate))).toEqual([])
  })
})

describe('import', () => {
  it('passes with the versions and the number of tasks the app registers', async () => {
    const v = await judge(importGate, probed())
    expect(v.status).toBe('pass')
    expect(v.evidence).toBe('`app.celery_app` imported in 0.42 s: Python 3.12.1, Celery 5.7.0, kombu 5.5.0\n2 tasks registered')
  })

  it('fails with the import error, its traceback in the details', async () => {
    const error = { event: 'import-error' as const, type: 'ModuleNotFoundError', message: "No module named 'app'", traceback: 'Traceback …' }
    const v = await judge(importGate, { probe: () => Promise.resolve({ ok: false, kind: 'import-error', error }) })
    expect(v).toMatchObject({ status: 'fail', details: 'Traceback …' })
    expect(v.evidence).toMatch(/^`app.celery_app` does not import: No module named 'app'\ncheck that python/)
  })

  it('fails with why the probe never ran', async () => {
    const v = await judge(importGate, {
      probe: () => Promise.resolve({ ok: false, kind: 'not-started', message: 'python3 did not run the probe', details: 'stderr' })
    })
    expect(v).toEqual({ status: 'fail', evidence: 'python3 did not run the probe', details: 'stderr' })
  })
})

describe('broker-config', () => {
  it('fails when the app did not import', async () => {
    expect(await judge(brokerConfigGate)).toEqual({ status: 'fail', evidence: 'the app did not import' })
  })

  it('fails naming a broker that is not PostgreSQL', async () => {
    const v = await judge(brokerConfigGate, probed({ broker: { url: 'redis://cache:6379/0', transport: 'redis', parts: null } }))
    expect(v.status).toBe('fail')
    expect(v.evidence).toMatch(/Redis/)
  })

  it('passes when the banner shows the configured transport and results', async () => {
    const banner = () => Promise.resolve({ transport: 'sqla+postgresql://worker:**@db/app', results: 'db+postgresql://worker:**@db/app' })
    const v = await judge(brokerConfigGate, { ...probed(), banner })
    expect(v.status).toBe('pass')
    expect(v.evidence).toContain("the worker's banner shows the same transport and results")
  })

  it('fails when the banner shows another database than the app configures', async () => {
    const banner = () => Promise.resolve({ transport: 'sqla+postgresql://worker:**@elsewhere/app' })
    const v = await judge(brokerConfigGate, { ...probed(), banner })
    expect(v.status).toBe('fail')
    expect(v.evidence).toMatch(/^the worker's banner shows transport at worker@elsewhere/)
  })

  it('passes without a cross-check when the worker printed no banner', async () => {
    const v = await judge(brokerConfigGate, probed())
    expect(v.status).toBe('pass')
    expect(v.evidence).toContain('not cross-checked: the worker printed no banner')
  })
})

describe('runtime', () => {
  const ready = { line: 'celery@cfg-0000@host ready.', atMs: 700 }

  it('passes on a pong, saying how long after ready', async () => {
    const v = await judge(runtimeGate, { ...answered(pong()), lines: { ready } })
    expect(v.status).toBe('pass')
    expect(v.evidence).toBe(
      "`cfg-0000@host ready.`\ncelery.ping answered 'pong' 300 ms after ready, 1.00 s after the worker started\nqueue `cfg-0000.ping`, task id `task-id-0000`"
    )
  })

  it('warns on a pong with another result than pong, and names the loglevel without a ready line', async () => {
    const v = await judge(runtimeGate, { ...answered(pong(42, '42')), lines: { loglevel: 'WARNING' } })
    expect(v.status).toBe('warn')
    expect(v.evidence).toMatch(/^no ready line \(worker loglevel WARNING\)\n/)
    expect(v.evidence).toMatch(/expected the result 'pong'$/)
  })

  it('fails when the task failed, redacted', async () => {
    const ping: PingOutcome = { kind: 'task-failed', error: 'boom s3cret', traceback: 'tb s3cret', pongAtMs: 10 }
    const v = await judge(runtimeGate, { ...answered(ping), redact: (t) => t.replaceAll('s3cret', '***') })
    expect(v).toEqual({ status: 'fail', evidence: 'the worker ran celery.ping and it failed: boom ***', details: 'tb ***' })
  })

  it('fails naming worker-args when Celery rejects an option, with the last lines in the details', async () => {
    const ping: PingOutcome = { kind: 'worker-exited', exit: { code: 2, signal: null, afterMs: 50 }, line: "Error: Invalid value for '-P' / '--pool'" }
    const v = await judge(runtimeGate, { ...answered(ping), lines: { lastLines: (n) => ['line 1', 'line 2'].slice(-n) } })
    expect(v.status).toBe('fail')
    expect(v.evidence).toMatch(/^the worker rejected its arguments: check the worker-args input\n/)
    expect(v.details).toContain('Last lines of the worker:\nline 1\nline 2')
  })

  it('fails on a timeout quoting the last line, and skips a cancelled run', async () => {
    const timeout = await judge(runtimeGate, { ...answered({ kind: 'timeout', detail: 'no answer in 60 s' }), lines: { lastLines: () => ['still booting'] } })
    expect(timeout).toMatchObject({ status: 'fail', evidence: 'no answer in 60 s\nlast line: still booting' })
    expect(await judge(runtimeGate, answered({ kind: 'cancelled' }))).toEqual({ status: 'skip', evidence: 'cancelled while waiting for the worker to answer' })
  })
})

describe('tasks', () => {
  const pinged = answered(pong())

  it('fails when the app did not import', async () => {
    expect(await judge(tasksGate)).toEqual({ status: 'fail', evidence: 'the app did not import' })
  })

  it('skips when the worker printed no task list', async () => {
    expect((await judge(tasksGate, { ...probed(), ...pinged })).status).toBe('skip')
  })

  it("passes when the worker's banner lists the app's tasks and every expected one", async () => {
    const v = await judge(
      tasksGate,
      { ...probed(), ...pinged, lines: { bannerTasks: ['app.add', 'app.mul'] } },
      { settings: settingsWith({ 'expected-tasks': 'app.add' }) }
    )
    expect(v).toEqual({ status: 'pass', evidence: '2 tasks registered in the worker, as the app defines them\nall 1 expected tasks registered' })
  })

  it('fails naming an expected task the worker lacks and a task only the app has', async () => {
    const v = await judge(
      tasksGate,
      { ...probed(), ...pinged, lines: { bannerTasks: ['app.add'] } },
      { settings: settingsWith({ 'expected-tasks': 'app.div' }) }
    )
    expect(v.status).toBe('fail')
    expect(v.evidence).toContain("expected task app.div is not registered in the worker — is its module in the app's include list?")
    expect(v.evidence).toContain('app.mul is registered in the app but not in the worker')
  })
})

describe('queues', () => {
  const routed = probed({ default_consumed_queues: ['celery'], routes: { emails: ['app.send'] }, consumed_queues: ['celery', 'emails'] })
  const extra = (queue: string, status?: string): ExtraResult => ({
    purpose: 'queue',
    queue,
    task: 'celery.ping',
    taskId: `id-${queue}`,
    ...(status ? { status } : {})
  })

  it('warns when the app routes nothing but to the run’s own queue', async () => {
    expect((await judge(queuesGate, probed({ default_consumed_queues: [] }))).status).toBe('warn')
  })

  it('passes when a ping through each queue came back, naming another node that answered', async () => {
    const extras = () => Promise.resolve([extra('celery', 'SUCCESS'), { ...extra('emails', 'SUCCESS'), worker: 'other@host' }])
    const v = await judge(queuesGate, { ...routed, extras })
    expect(v).toEqual({ status: 'pass', evidence: '2 of 2 queues answered a ping: `celery` (0 tasks), `emails` (1 task, answered by other@host)' })
  })

  it('fails for a queue the worker does not consume (its banner says so) and for a ping that did not come back', async () => {
    const extras = () => Promise.resolve([extra('celery')])
    const v = await judge(queuesGate, { ...routed, extras, lines: { bannerQueues: ['celery'] } })
    expect(v.status).toBe('fail')
    expect(v.evidence).toContain('the ping routed through `celery` did not come back within a few broker polls')
    expect(v.evidence).toMatch(/queue `emails` is not consumed by the booted worker \(it consumes celery\); routed there: app.send/)
  })
})

describe('logs', () => {
  // The gate waits for late lines only until 300 ms after the pong: the worker's clock is past that.
  const after = { ...answered(pong()), lines: { elapsedMs: () => 5000 } }
  const linesSaying = (...lines: string[]) => ({ ...after, lines: { ...after.lines, sinceReady: lines.map((line) => ({ line, atMs: 900 })) } })
  const json = (record: Record<string, unknown>) => JSON.stringify({ level: 'INFO', logger: 'celery.app.trace', message: 'ok', ...record })

  it('warns when the worker wrote no log record, or only plain text', async () => {
    expect((await judge(logsGate, after)).status).toBe('warn')
    const plain = await judge(logsGate, linesSaying('[2026-11-26 01:42:52,784: INFO/MainProcess] Task received'))
    expect(plain.status).toBe('warn')
    expect(plain.evidence).toMatch(/^the worker logs plain text/)
  })

  it('passes when every line is JSON with the fields, and the lines about the ping name the task', async () => {
    const v = await judge(logsGate, linesSaying(json({}), json({ message: 'Task task-id-0000 succeeded', task_name: 'celery.ping' })))
    expect(v).toEqual({
      status: 'pass',
      evidence: '2 log lines while the worker handled the ping, all JSON with level, logger, message; 1 about the ping name its task'
    })
  })

  it('fails on a JSON line without a field, and on a line about the ping without the task name', async () => {
    const v = await judge(logsGate, linesSaying(JSON.stringify({ level: 'INFO', message: 'x' }), json({ message: 'Task task-id-0000 received' })))
    expect(v.status).toBe('fail')
    expect(v.evidence).toContain('1 of 2 JSON lines have no `logger`')
    expect(v.evidence).toContain('1 of 1 lines about the ping carry no task name (task_name)')
  })
})

describe('the gates that check with SQL, before any SQL', () => {
  it('db-access fails without a PostgreSQL data plane, and when it cannot connect (redacted)', async () => {
    expect(await judge(dbAccessGate)).toEqual({ status: 'fail', evidence: 'no PostgreSQL data plane to check' })
    const v = await judge(dbAccessGate, { ...probed(), ...refused(), redact: (t) => t.replaceAll('s3cret', '***') })
    expect(v.status).toBe('fail')
    expect(v.evidence).toBe(
      'cannot connect to the broker\'s database (sqla+postgresql://***@db/app): password authentication failed for user "worker" (pw ***)'
    )
    expect(v.evidence).not.toContain('s3cret')
  })

  // (tenant-isolation connects with the worker's DSN itself, not through the facts.)
  it('rls-role, dlq and db-access are skipped, not failed, when the database already refused the DSN', async () => {
    const blocked = { ...probed(), ...refused(), sqlChecksBlocked: () => Promise.resolve("not run: the database refused the worker's DSN") }
    for (const gate of [rlsRoleGate, dbAccessGate])
      expect(await judge(gate, blocked), gate.id).toEqual({ status: 'skip', evidence: "not run: the database refused the worker's DSN" })
    expect(await judge(dlqGate, blocked, { settings: settingsWith({ 'dlq-table': 'dead_letters' }) })).toEqual({
      status: 'skip',
      evidence: "not run: the database refused the worker's DSN"
    })
  })

  it('dlq is skipped when no dead-letter table is configured', async () => {
    expect(await judge(dlqGate)).toEqual({ status: 'skip', evidence: 'not configured: set dlq-table (and dlq-probe-task) to check the dead-letter table' })
  })

  it('tenant-isolation fails without a PostgreSQL data plane', async () => {
    expect(await judge(tenantIsolationGate)).toEqual({ status: 'fail', evidence: 'no PostgreSQL data plane to check' })
  })
})

describe('ci', () => {
  const red: GateResult = { id: 'runtime', title: 'Runtime', description: '', status: 'fail', evidence: 'x', foundation: true, durationMs: 1 }
  const tests = (failed: number): TestsReport => ({
    patterns: ['junit.xml'],
    files: [],
    unmatched: [],
    totals: { cases: 3, passed: 3 - failed, failed, errored: 0, skipped: 0, xfailed: 0, xpassed: 0 },
    failed,
    byCategory: {},
    taxonomy: [],
    components: [],
    verdict: failed ? 'foundation green, test suite red: remediate the tests' : 'all green',
    durationMs: 1
  })

  it('passes under fail-on: foundation and only reports (warn) under fail-on: never', async () => {
    expect((await judge(ciGate)).evidence).toMatch(/^fail-on: foundation: this step fails when a foundation gate fails/)
    expect((await judge(ciGate)).status).toBe('pass')
    expect((await judge(ciGate, {}, { settings: settingsWith({ 'fail-on': 'never' }) })).status).toBe('warn')
  })

  it('warns when the foundation is proven and the suite is red, passes when the foundation is red too', async () => {
    const v = await judge(ciGate, { tests: () => Promise.resolve(tests(1)) })
    expect(v.status).toBe('warn')
    expect(v.evidence).toMatch(/^foundation green, test suite red/)
    expect((await judge(ciGate, { tests: () => Promise.resolve(tests(1)) }, { earlier: [red] })).status).toBe('pass')
  })
})
