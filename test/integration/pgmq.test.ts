// PGMQ (kombu 5.7's pgmq:// transport) end to end: the bundled action on the example app's PGMQ
// variant (app.variants.pgmq_broker, sql/variants/pgmq.sql), PGMQ installed SQL-only from the
// Celery 5.7 environment's pgmq package, a real PostgreSQL and real Celery 5.7 workers. Every gate
// passes and nothing of the run stays in pgmq.meta; a broker that is not PostgreSQL still fails
// broker-config; a worker the database refuses on PGMQ fails runtime in its own words, fast.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GATE_IDS } from '../../src/constants.js'
import { execa } from 'execa'
import { DIST_POST, EXAMPLE_APP, gate, leakedSecrets, processesOfRun, pythonFor, runAction, stepFiles } from '../support/action.js'
import { exampleArgs, runCli } from '../support/cli.js'
import { exampleDatabase, runOnExample, secretsOf, type ExampleDatabase } from '../support/example.js'
import { installPgmq } from '../support/pgmq.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep, record } from '../support/reliability.js'

const GROUP = 'PGMQ'
const APP = 'app.variants.pgmq_broker'
const DLQ = { 'dlq-table': 'worker_failed_jobs', 'dlq-probe-task': 'app.tasks.housekeeping.fail' }

let pg: TestPostgres
let pgmqVersion: string
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

/** The example's database with PGMQ installed and the PGMQ variant's grants (then `extra` SQL, as the superuser). */
async function pgmqDatabase(extra?: (db: ExampleDatabase) => string): Promise<ExampleDatabase> {
  const db = await exampleDatabase(pg)
  pgmqVersion = await installPgmq(pg, db.database)
  await pg.applySqlFile(db.database, `${process.cwd()}/examples/tenant-app/sql/variants/pgmq.sql`, {
    owner_role: db.ownerRole,
    app_role: db.appRole,
    app_password: db.password
  })
  if (extra) await pg.query(db.database, extra(db))
  return db
}

/** What the run left in PGMQ and in the result table. */
async function leftovers(db: ExampleDatabase): Promise<{ queues: string[]; results: number }> {
  const [row] = await pg.query(
    db.database,
    `SELECT coalesce((SELECT array_agg(queue_name::text ORDER BY queue_name) FROM pgmq.meta WHERE queue_name LIKE 'cfg\\_%'), '{}') AS queues,
            (SELECT count(*) FROM celery_taskmeta)::int AS results`
  )
  return row as { queues: string[]; results: number }
}

const allPass = (ids: readonly string[]): Record<string, string> => Object.fromEntries(ids.map((id) => [id, 'pass']))

describe('PGMQ broker (Celery 5.7)', () => {
  it('the PGMQ example passes every gate (solo), the step exits 0, and nothing of the run stays in pgmq.meta', async () => {
    const db = await pgmqDatabase()
    const result = await runOnExample('5.7', db, { app: APP, ...DLQ })
    const ids = GATE_IDS.filter((g) => g !== 'ci')
    checkStep(
      GROUP,
      'PGMQ example, solo pool: every gate',
      result,
      { code: 0, gates: { 'broker-config': 'pass', ...allPass(ids) }, evidence: /pgmq:\/\/\*\*\*@127\.0\.0\.1/, secrets: secretsOf(db) },
      'pgmq:// is PostgreSQL: every gate passes, the ping goes through PGMQ and its result comes back from the result backend'
    )
    const broker = gate(result, 'broker-config').evidence
    expect(broker).toContain("data plane: kombu's PGMQ transport (kombu 5.7")
    expect(broker).toMatch(
      new RegExp(
        `PGMQ SQL-only install \\(schema pgmq, \\d+ functions; no version recorded in the database; the worker's pgmq package [\\d.]+ bundles PGMQ ${pgmqVersion.replace(/\./g, '\\.')}\\)`
      )
    )
    expect(gate(result, 'runtime').evidence).toMatch(/celery\.ping answered 'pong'/)
    expect(gate(result, 'runtime').evidence).toMatch(/queue `cfg-[0-9a-f]{8}\.ping` \(PGMQ queue `cfg_[0-9a-f]{8}_ping`\)/)
    expect(gate(result, 'queues').evidence).toMatch(/2 of 2 queues answered a ping/)
    // kombu's PGMQ connections come from a psycopg pool's own threads: attributed to the broker.
    expect(gate(result, 'rls-role').evidence).toMatch(/broker via psycopg: \d+ connections? as /)
    expect(gate(result, 'rls-role').evidence).not.toMatch(/unknown via/)
    expect(gate(result, 'dlq').evidence).toMatch(/left exactly one row/)
    // The probe task's dead-letter row stays: the example's role may only append to that table.
    expect(result.report?.trace?.detail).toMatch(
      /removed .*queue cfg_[0-9a-f]{8}_ping, queue cfg_[0-9a-f]{8}_\w+_celery_pidbox, result rows; left in the database: the probe task's dead-letter row/
    )
    expect(await leftovers(db)).toEqual({ queues: [], results: 0 })
  })

  it('passes with a prefork pool (--concurrency=2) and leaves nothing in pgmq.meta', async () => {
    const db = await pgmqDatabase()
    const result = await runOnExample('5.7', db, { app: APP, 'worker-args': '--pool=prefork --concurrency=2' })
    checkStep(
      GROUP,
      'PGMQ example, prefork pool: every gate',
      result,
      {
        code: 0,
        gates: { runtime: 'pass', 'broker-config': 'pass', queues: 'pass', 'rls-role': 'pass', 'tenant-isolation': 'pass' },
        evidence: /answered 'pong'/,
        secrets: secretsOf(db)
      },
      'the pool children answer through PGMQ as the solo worker does; the run drops its queue and pidbox queue'
    )
    expect(result.report?.trace?.removed, result.report?.trace?.detail).toBe(true)
    expect(await leftovers(db)).toEqual({ queues: [], results: 0 })
  })

  it('a broker that is not PostgreSQL still fails broker-config on a database with PGMQ', async () => {
    const db = await pgmqDatabase()
    const result = await runOnExample('5.7', db, { app: 'app.variants.redis_broker' })
    checkStep(
      GROUP,
      'Redis broker beside PGMQ',
      result,
      { code: 1, gates: { 'broker-config': 'fail' }, evidence: /broker is redis:\/\/ \(Redis\), not PostgreSQL/, timeoutS: 30, secrets: secretsOf(db) },
      'PGMQ being installed does not make another broker PostgreSQL'
    )
  })

  it('PGMQ not installed: broker-config names it with both ways to install it, before the worker dies of it', async () => {
    const db = await exampleDatabase(pg)
    const result = await runOnExample('5.7', db, { app: APP, timeout: '60' })
    checkStep(
      GROUP,
      'PGMQ not installed',
      result,
      {
        code: 1,
        gates: { 'broker-config': 'fail' },
        evidence:
          /PGMQ is not installed in \S+ \(no schema pgmq\): kombu's pgmq:\/\/ transport needs it — install PGMQ in \S+ as its owner: CREATE EXTENSION pgmq/,
        timeoutS: 25,
        marginS: 0,
        secrets: secretsOf(db)
      },
      'broker-config says PGMQ is missing and how to install it (extension or the pgmq package SQL-only install)'
    )
  })

  it("init_extension left on (kombu's default) on a SQL-only install: broker-config names the option and the fix", async () => {
    const db = await pgmqDatabase()
    const result = await runOnExample('5.7', db, { app: 'app.variants.pgmq_default_options', timeout: '60' })
    checkStep(
      GROUP,
      'PGMQ with init_extension on (SQL-only install)',
      result,
      {
        code: 1,
        gates: { 'broker-config': 'fail' },
        evidence: /init_extension is on \(kombu's default\) and PGMQ is a SQL-only install.*set broker_transport_options=\{"init_extension": False\}/,
        timeoutS: 25,
        marginS: 0,
        secrets: secretsOf(db)
      },
      "the worker's CREATE EXTENSION would kill it at boot: broker-config names init_extension and the fix"
    )
  })

  it("a role without CREATE on schema pgmq: runtime fails fast in the worker's words", async () => {
    const db = await pgmqDatabase((d) => `REVOKE CREATE ON SCHEMA pgmq FROM "${d.appRole}"`)
    const result = await runOnExample('5.7', db, { app: APP, timeout: '60' })
    checkStep(
      GROUP,
      'PGMQ without CREATE on schema pgmq',
      result,
      { code: 1, gates: { runtime: 'fail' }, evidence: /permission denied for schema pgmq/, timeoutS: 25, marginS: 0, secrets: secretsOf(db) },
      'the worker dies declaring its queues; runtime says so within seconds, not at the 60 s timeout'
    )
  })

  it("the app's queue pre-created by another role: broker-config names the tables and the fix before the worker boots", async () => {
    // Created by the superuser (a migration, say): the app role does not own q_celery.
    const db = await pgmqDatabase(() => `SELECT pgmq.create('celery')`)
    const result = await runOnExample('5.7', db, { app: APP, timeout: '60' })
    checkStep(
      GROUP,
      'PGMQ queue tables owned by another role',
      result,
      {
        code: 1,
        gates: { 'broker-config': 'fail' },
        evidence: /pgmq\.q_celery \(queue celery\) is owned by postgres, not by the worker's role .*ALTER TABLE pgmq\."q_celery" OWNER TO/,
        timeoutS: 25,
        marginS: 0,
        secrets: secretsOf(db)
      },
      "kombu re-declares every queue: the worker's role must own its queue tables; broker-config names each table and the ALTER TABLE before the worker dies of it"
    )
  })

  it('a role that may not drop its queues: the step passes and the trace names what stays', async () => {
    const db = await pgmqDatabase((d) => `REVOKE DELETE ON pgmq.meta FROM "${d.appRole}"`)
    const result = await runOnExample('5.7', db, { app: APP, gates: 'import, broker-config, runtime, ci' })
    checkStep(
      GROUP,
      'PGMQ role without DELETE on pgmq.meta',
      result,
      { code: 0, gates: { runtime: 'pass' }, evidence: /answered 'pong'/, secrets: secretsOf(db) },
      "the run's queues cannot be dropped: the gates still pass, and the trace says which queues stay and why"
    )
    expect(result.report?.trace?.removed).toBe(false)
    expect(result.report?.trace?.detail).toMatch(
      /left in the database: queue cfg_[0-9a-f]{8}_ping \(\w+ may not: permission denied for table meta\), queue cfg_\w+_celery_pidbox \(/
    )
    expect((await leftovers(db)).queues).toHaveLength(2)
  })

  it('four runs at once on one PGMQ database: each passes with its own queue, none is left', async () => {
    const db = await pgmqDatabase()
    const results = await Promise.all([0, 1, 2, 3].map(() => runOnExample('5.7', db, { app: APP, gates: 'import, broker-config, runtime, queues, ci' })))
    for (const [i, result] of results.entries())
      checkStep(
        GROUP,
        `4 PGMQ runs at once on one database (#${i + 1})`,
        result,
        { code: 0, gates: { runtime: 'pass', queues: 'pass' }, evidence: /answered 'pong'/, secrets: secretsOf(db) },
        "concurrent runs declare the app's queues without a race (pgmq.create locks per queue) and each gets its own pong"
      )
    expect(new Set(results.map((r) => r.report?.runId)).size).toBe(4)
    expect(await leftovers(db)).toEqual({ queues: [], results: 0 })
  })

  it('a queue_name_prefix that makes queue names too long for PGMQ: broker-config names them before the worker boots', async () => {
    const db = await pgmqDatabase()
    const result = await runOnExample('5.7', db, { app: 'app.variants.pgmq_long_prefix', timeout: '60' })
    checkStep(
      GROUP,
      'PGMQ queue names over 47 characters',
      result,
      {
        code: 1,
        gates: { 'broker-config': 'fail' },
        evidence: /PGMQ queue name tenant_app_production_eu_west_1_\w+ is \d+ characters, over PGMQ's 47: the worker would die declaring it/,
        timeoutS: 25,
        marginS: 0,
        secrets: secretsOf(db)
      },
      'known from the probe: the prefix is named, the worker never declares a queue'
    )
    expect(gate(result, 'broker-config').evidence).toContain("queue_name_prefix 'tenant-app-production-eu-west-1.' counts too")
    expect((await pg.query(db.database, 'SELECT count(*)::int AS n FROM pgmq.meta'))[0]).toEqual({ n: 0 })
  })

  it('pgmq:// under Celery 5.2: broker-config says the installed kombu has no PGMQ transport', async () => {
    const db = await pgmqDatabase()
    const result = await runOnExample('5.2', db, { app: APP })
    checkStep(
      GROUP,
      'pgmq:// with kombu 5.2',
      result,
      {
        code: 1,
        gates: { 'broker-config': 'fail' },
        evidence: /broker is pgmq:\/\/, which kombu 5\.2\.\d+ cannot load .*needs kombu 5\.7 or later/,
        timeoutS: 30,
        secrets: secretsOf(db)
      },
      'an old kombu is named as the cause, not a missing PostgreSQL'
    )
  })

  it('keep-worker: the kept worker answers a task sent through PGMQ, the post step stops it', async () => {
    const db = await pgmqDatabase()
    const files = stepFiles()
    const main = await runOnExample('5.7', db, { app: APP, 'keep-worker': 'true', gates: 'import, broker-config, runtime, ci' }, { files })
    const runId = main.report?.runId ?? ''
    try {
      expect(main.code, main.stdout + main.stderr).toBe(0)
      expect(main.report?.worker?.stop?.how).toBe('kept')
      // The kept worker still consumes the run's queue and answers on its pidbox queue.
      expect(main.report?.trace?.detail).toMatch(/queue cfg_[0-9a-f]{8}_ping and pidbox queue cfg_\w+_celery_pidbox stay while the kept worker consumes them$/)
      const answer = await sendTask(db, 'app.tasks.housekeeping.ping', 'kept-on-pgmq')
      const post = await runAction({}, { script: DIST_POST, files, passState: true })
      const left = processesOfRun(runId).length
      const leaks = leakedSecrets(post, secretsOf(db))
      record({
        group: GROUP,
        case: 'keep-worker on PGMQ',
        expectation: 'the kept worker answers a task a later step sends through PGMQ; the post step stops it; nothing left running, no secret',
        result: `main exit ${main.code}; task answered: ${answer.trim().slice(0, 60)}; post exit ${post.code}; ${left} processes left; ${leaks.length} leaks`,
        passed: main.code === 0 && answer.includes('kept-on-pgmq') && post.code === 0 && left === 0 && !leaks.length
      })
      expect(answer).toContain('kept-on-pgmq')
      expect(post.code).toBe(0)
      expect(left).toBe(0)
      expect(leaks).toEqual([])
    } finally {
      for (const pid of processesOfRun(runId)) process.kill(pid, 'SIGKILL')
    }
  })

  it('the CLI runs the same gates on PGMQ', async () => {
    const db = await pgmqDatabase()
    const run = await runCli([...exampleArgs(db, APP), '--json'], { DATABASE_URL: db.url, CI: 'true' })
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(run.stdout) as { verdict: string; gates: Array<{ id: string; status: string; evidence: string }> }
    expect(report.verdict).toBe('pass')
    expect(report.gates.find((g) => g.id === 'broker-config')?.evidence).toContain("data plane: kombu's PGMQ transport")
    expect(JSON.stringify(report)).not.toContain(db.password)
    expect(await leftovers(db)).toEqual({ queues: [], results: 0 })
  })
})

/** A task sent the ordinary way by a later step of the job, through PGMQ; resolves to its result. */
async function sendTask(db: ExampleDatabase, task: string, echo: string): Promise<string> {
  const script = `import sys\nfrom app.variants.pgmq_broker import celery_app\nprint(celery_app.send_task(sys.argv[1], kwargs={'x': sys.argv[2]}).get(timeout=30))`
  const run = await execa(pythonFor('5.7'), ['-c', script, task, echo], { cwd: EXAMPLE_APP, env: { DATABASE_URL: db.url }, all: true, reject: false })
  if (run.exitCode === 0) return run.all
  throw new Error(`the task was not answered (${run.exitCode ?? run.signal}): ${run.all.slice(-2000)}`)
}
