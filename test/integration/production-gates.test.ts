// The gates beyond the seed's six — queues, tasks, logs, dlq, tenant-isolation — and the verified
// worker kept as the job's service: the example app passes each; a broken variant fails it with
// evidence a user understands. Real PostgreSQL, real workers, the bundled action; every case is
// checked for the common invariants and recorded for RELIABILITY.md.
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GATE_IDS } from '../../src/constants.js'
import {
  DIST_POST,
  EXAMPLE_APP,
  gate,
  leakedSecrets,
  processesOfRun,
  pythonFor,
  runAction,
  stepFiles,
  type ActionResult,
  type CeleryVersion
} from '../support/action.js'
import { exampleDatabase, runOnExample, type ExampleDatabase, secretsOf } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep, record } from '../support/reliability.js'

const GROUP = 'Gates beyond the seed'
const DLQ = { 'dlq-table': 'worker_failed_jobs', 'dlq-probe-task': 'app.tasks.housekeeping.fail' }

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

const secrets = secretsOf

async function gatesOn(
  version: CeleryVersion,
  variants: string[],
  inputs: Record<string, string> = {}
): Promise<{ db: ExampleDatabase; result: ActionResult }> {
  const db = await exampleDatabase(pg, { variants })
  return { db, result: await runOnExample(version, db, inputs) }
}

describe.each(['5.7', '5.2'] as const)('the example app on Celery %s', (version) => {
  it('passes every gate, the dlq probe included', async () => {
    const { db, result } = await gatesOn(version, [], { ...DLQ, 'expected-tasks': 'app.tasks.invoices.record_invoice app.tasks.housekeeping.ping' })
    const everyGate = Object.fromEntries(GATE_IDS.map((id) => [id, 'pass']))
    checkStep(
      GROUP,
      `the example app passes all ${GATE_IDS.length} gates (Celery ${version})`,
      result,
      { code: 0, gates: everyGate, timeoutS: 30, secrets: secrets(db) },
      'queues, tasks, logs, dlq (with the probe task), tenant-isolation all pass'
    )
    const evidence = (id: string): string => gate(result, id).evidence
    expect(evidence('queues')).toMatch(/2 of 2 queues answered a ping: `celery` \(\d+ tasks\), `invoices` \(1 task\)/)
    expect(evidence('tasks')).toMatch(/all 2 expected tasks registered/)
    expect(evidence('logs')).toMatch(/all JSON with level, logger, message; \d+ about the ping name its task/)
    expect(evidence('dlq')).toMatch(/the probe task app\.tasks\.housekeeping\.fail failed and left exactly one row/)
    expect(evidence('tenant-isolation')).toMatch(/no row without a tenant, none for a random tenant \(app\.current_tenant_id\)/)
    // The result rows of the run's pings and of the probe task are gone (the dead-letter row may
    // stay: app_user may only INSERT there, and the report's trace says so).
    const left = await pg.query<{ n: number }>(db.database, 'SELECT count(*)::int AS n FROM celery_taskmeta')
    expect(left[0]?.n).toBe(0)
  })
})

describe('each gate catches its broken variant', () => {
  it('queues: a route to a queue no worker consumes', async () => {
    const { db, result } = await gatesOn('5.2', [], { app: 'app.variants.unrouted_queue' })
    checkStep(
      GROUP,
      'queues: task_routes sends a task to `reports`, which no worker consumes',
      result,
      {
        code: 1,
        gates: { queues: 'fail' },
        evidence: /queue `reports` is not consumed by the booted worker .*routed there: app\.tasks\.reports\.build_report/,
        timeoutS: 30,
        secrets: secrets(db)
      },
      'queues fails naming the queue and the tasks routed there'
    )
    // The probe left no message behind in the unconsumed queue.
    const rows = await pg.query<{ n: number }>(
      db.database,
      "SELECT count(*)::int AS n FROM kombu_message m JOIN kombu_queue q ON q.id = m.queue_id WHERE q.name = 'reports'"
    )
    expect(rows[0]?.n).toBe(0)
  })

  it('tasks: an include the app forgot', async () => {
    const { db, result } = await gatesOn('5.2', [], { app: 'app.variants.missing_include', 'expected-tasks': 'app.tasks.invoices.record_invoice' })
    checkStep(
      GROUP,
      'tasks: the app forgets to include app.tasks.invoices',
      result,
      {
        code: 1,
        gates: { tasks: 'fail' },
        evidence: /expected task app\.tasks\.invoices\.record_invoice is not registered in the worker/,
        timeoutS: 30,
        secrets: secrets(db)
      },
      'tasks fails naming the expected task'
    )
  })

  it('logs: plain text is mixed, a missing field fails', async () => {
    const plain = await gatesOn('5.2', [], { app: 'app.variants.plain_logs' })
    checkStep(
      GROUP,
      'logs: the app logs plain text',
      plain.result,
      { code: 0, gates: { logs: 'warn' }, evidence: /^the worker logs plain text, e\.g\. `\[\d{4}-/, timeoutS: 30, secrets: secrets(plain.db) },
      'logs is mixed (warn), quoting a plain line'
    )
    const missing = await gatesOn('5.2', [], { 'log-fields': 'level,logger,message,trace_id' })
    checkStep(
      GROUP,
      'logs: a required field (trace_id) the app never writes',
      missing.result,
      { code: 1, gates: { logs: 'fail' }, evidence: /JSON lines have no `trace_id`/, timeoutS: 30, secrets: secrets(missing.db) },
      'logs fails naming the field'
    )
  })

  it('dlq: a role that may not write dead letters, and a table that does not exist', async () => {
    const denied = await gatesOn('5.2', ['dlq-no-insert'], DLQ)
    checkStep(
      GROUP,
      'dlq: INSERT on worker_failed_jobs revoked',
      denied.result,
      {
        code: 1,
        gates: { dlq: 'fail' },
        evidence: /may not INSERT into worker_failed_jobs, so failed tasks cannot be recorded — GRANT INSERT ON "public"\."worker_failed_jobs" TO "/,
        timeoutS: 30,
        secrets: secrets(denied.db)
      },
      'dlq fails with the GRANT that fixes it'
    )
    const absent = await gatesOn('5.2', [], { ...DLQ, 'dlq-table': 'dead_letters' })
    checkStep(
      GROUP,
      'dlq: dlq-table names a table that does not exist',
      absent.result,
      { code: 1, gates: { dlq: 'fail' }, evidence: /dlq-table dead_letters does not exist/, timeoutS: 30, secrets: secrets(absent.db) },
      'dlq fails naming the table'
    )
  })

  it.each([
    [
      'tenant-default-on-role',
      'fail',
      /a new session of .* starts with app\.current_tenant_id = ".+" \(a role or database default\)/,
      'a role default gives every session a tenant'
    ],
    ['permissive-policy', 'fail', /public\.invoices: \d+ rows visible with no tenant set/, 'a permissive USING (true) policy shows every row'],
    ['bypassrls', 'fail', /with row_security = off .* still reads it/, 'a BYPASSRLS role is not refused row_security = off'],
    ['policy-without-missing-ok', 'warn', /a policy reads app\.current_tenant_id without missing_ok/, 'a policy without missing_ok is reported']
  ] as const)('tenant-isolation: %s', async (variant, status, evidence, what) => {
    const { db, result } = await gatesOn('5.2', [variant])
    checkStep(
      GROUP,
      `tenant-isolation: ${variant}`,
      result,
      { code: status === 'fail' ? 1 : 0, gates: { 'tenant-isolation': status }, evidence, timeoutS: 30, secrets: secrets(db) },
      `${what}: tenant-isolation ${status === 'fail' ? 'fails' : 'is mixed'}`
    )
  })
})

describe('the gates input', () => {
  it('runs and shows only the gates asked for; a gate turned off blocks nothing', async () => {
    const { db, result } = await gatesOn('5.2', [], { gates: 'runtime, import ci' })
    expect(JSON.parse(result.outputs.gates ?? '[]').map((g: { id: string }) => g.id)).toEqual(['import', 'runtime', 'ci'])
    checkStep(
      GROUP,
      'gates: `runtime, import ci`',
      result,
      { code: 0, gates: { import: 'pass', runtime: 'pass', ci: 'pass' }, timeoutS: 30, secrets: secrets(db) },
      'only import, runtime and ci run, in matrix order; runtime runs although broker-config is off'
    )
  })

  it('rejects an unknown gate id in one line', async () => {
    const { db, result } = await gatesOn('5.2', [], { gates: 'import, sanity' })
    checkStep(
      GROUP,
      'gates: an unknown id (`sanity`)',
      result,
      {
        code: 1,
        gates: { ci: 'fail' },
        evidence: /Input "gates": expected gate ids among import, .*; got "sanity"/,
        timeoutS: 0,
        marginS: 10,
        secrets: secrets(db)
      },
      'an input error naming the gates input'
    )
  })
})

describe("keep-worker: the verified worker as the job's service", () => {
  it("keeps serving the app's queues after the step, and the post step stops it and shows its log", async () => {
    const db = await exampleDatabase(pg)
    const files = stepFiles()
    const main = await runOnExample('5.7', db, { 'keep-worker': 'true' }, { files })
    const runId = main.report?.runId ?? ''
    try {
      expect(main.code, main.stdout + main.stderr).toBe(0)
      expect(main.report?.worker?.stop?.how).toBe('kept')
      // The kept worker still polls the run's own queue: the trace says that row stays.
      expect(main.report?.trace?.detail).toMatch(/queue row cfg-[0-9a-f]+\.ping stays while the kept worker consumes it$/)
      const alive = processesOfRun(runId).length
      expect(alive).toBeGreaterThan(0)

      // A test step sends a task the ordinary way; the kept worker answers it.
      const answer = await sendTask(db, 'app.tasks.housekeeping.ping', 'kept-worker-answers')
      expect(answer).toContain('kept-worker-answers')

      const post = await runAction({}, { script: DIST_POST, files, passState: true })
      const left = processesOfRun(runId).length
      const summary = post.summary
      const leaks = leakedSecrets(post, secrets(db))
      const passed =
        post.code === 0 && left === 0 && summary.includes('Celery worker kept for the job') && summary.includes('kept-worker-answers') && !leaks.length
      record({
        group: GROUP,
        case: 'keep-worker: the worker serves the next step, the post step stops it',
        expectation:
          'after the step the worker still runs and answers a task sent by a test step; the post step stops it (exit 0) and adds its log to its summary; nothing left, no secret',
        result: `main exit ${main.code}; ${alive} worker processes alive after it; task answered: ${answer.trim().slice(0, 80)}; post exit ${post.code} in ${(post.durationMs / 1000).toFixed(1)} s; ${left} processes left; post summary ${summary.includes('kept-worker-answers') ? 'shows' : 'does not show'} the task in the worker log`,
        passed
      })
      expect(post.code).toBe(0)
      expect(left).toBe(0)
      expect(summary).toContain('Celery worker kept for the job')
      expect(summary).toContain('kept-worker-answers')
      expect(leaks).toEqual([])
    } finally {
      // A failed expectation above must not leave the kept worker running past the test.
      for (const pid of runId ? processesOfRun(runId) : []) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
    }
  })
})

/** What a test step does: send a task with the app's own client and wait for its result. */
async function sendTask(db: ExampleDatabase, task: string, echo: string): Promise<string> {
  const script = `import sys\nfrom app.celery_app import celery_app\nprint(celery_app.send_task(sys.argv[1], kwargs={'x': sys.argv[2]}).get(timeout=30))`
  const run = await execa(pythonFor('5.7'), ['-c', script, task, echo], {
    cwd: EXAMPLE_APP,
    env: { DATABASE_URL: db.url },
    all: true,
    stripFinalNewline: false,
    reject: false
  })
  if (run.exitCode === 0) return run.all
  throw new Error(`the task was not answered (${run.exitCode ?? run.signal}): ${run.all.slice(-2000)}`)
}
