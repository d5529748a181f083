// PGMQ (kombu 5.7's pgmq:// transport) end to end: the bundled action on the example app's PGMQ
// variant (app.variants.pgmq_broker, sql/variants/pgmq.sql), PGMQ installed SQL-only from the
// Celery 5.7 environment's pgmq package, a real PostgreSQL and real Celery 5.7 workers. Every gate
// passes and nothing of the run stays in pgmq.meta; a broker that is not PostgreSQL still fails
// broker-config; a worker the database refuses on PGMQ fails runtime in its own words, fast.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GATE_IDS } from '../../src/constants.js'
import { gate } from '../support/action.js'
import { exampleDatabase, runOnExample, secretsOf, type ExampleDatabase } from '../support/example.js'
import { installPgmq } from '../support/pgmq.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'

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
    expect(broker).toMatch(new RegExp(`PGMQ: SQL-only install .*the worker's pgmq package [\\d.]+ bundles PGMQ ${pgmqVersion.replace(/\./g, '\\.')}'s SQL`))
    expect(gate(result, 'runtime').evidence).toMatch(/celery\.ping answered 'pong'/)
    expect(gate(result, 'queues').evidence).toMatch(/2 of 2 queues answered a ping/)
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

  it("the app's queue pre-created by the owner role: runtime fails fast naming the table the worker must own", async () => {
    // Created by the superuser (a migration, say): the app role does not own q_celery.
    const db = await pgmqDatabase(() => `SELECT pgmq.create('celery')`)
    const result = await runOnExample('5.7', db, { app: APP, timeout: '60' })
    checkStep(
      GROUP,
      'PGMQ queue tables owned by another role',
      result,
      { code: 1, gates: { runtime: 'fail' }, evidence: /must be owner of table q_celery/, timeoutS: 25, marginS: 0, secrets: secretsOf(db) },
      "kombu re-declares every queue: the worker's role must own its queue tables, and runtime quotes the worker"
    )
  })
})
