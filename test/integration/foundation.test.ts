// The action end to end, run as the runner runs it (node dist/index.js with INPUT_* variables),
// against a real PostgreSQL and real Celery workers of the oldest and newest supported Celery:
// the example app passes every gate; each broken variant fails the gate it breaks, with evidence
// a user understands; no secret leaks anywhere and no process outlives the step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gate, leakedSecrets, processesOfRun, type ActionResult, type CeleryVersion } from '../support/action.js'
import { GATE_IDS } from '../../src/constants.js'
import { exampleDatabase, runOnExample, type ExampleDatabase } from '../support/example.js'
import { freePort, TestPostgres } from '../support/postgres.js'

let pg: TestPostgres

beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

const gates = (version: CeleryVersion, db: ExampleDatabase, inputs: Record<string, string> = {}, databaseUrl = db.url, node?: string): Promise<ActionResult> =>
  runOnExample(version, db, inputs, { env: { DATABASE_URL: databaseUrl }, node })

function expectCleanStep(result: ActionResult, db: ExampleDatabase, extraSecrets: string[] = []): void {
  expect(leakedSecrets(result, [db.password, encodeURIComponent(db.password), db.url, ...extraSecrets])).toEqual([])
  expect(result.summary).toContain('Celery foundation gates')
  // dlq is off unless a dlq-table is given, so a default run shows every other gate.
  expect(result.report?.gates.map((g) => g.id)).toEqual(GATE_IDS.filter((g) => g !== 'dlq'))
  const runId = result.report?.runId ?? result.state['run-id']
  if (runId) expect(processesOfRun(runId)).toEqual([])
}

function expectFailure(result: ActionResult, gateId: string, evidence: RegExp): void {
  expect(result.code, result.stdout + result.stderr).not.toBe(0)
  expect(result.outputs.verdict).toBe('fail')
  expect(result.outputs['failed-gates']?.split(',')).toContain(gateId)
  expect(gate(result, gateId).status).toBe('fail')
  expect(gate(result, gateId).evidence).toMatch(evidence)
}

describe.each(['5.7', '5.2'] as const)('the example app on Celery %s', (version) => {
  it('passes every gate, exits 0, and leaves no trace', async () => {
    const db = await exampleDatabase(pg)
    const result = await gates(version, db)
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(result.outputs.verdict).toBe('pass')
    expect(result.outputs['failed-gates']).toBe('')
    // Every default gate passes; dlq needs a dlq-table, so it is neither run nor shown.
    for (const id of GATE_IDS.filter((g) => g !== 'dlq')) expect(gate(result, id).status, id).toBe('pass')
    expect(result.report?.gates.some((g) => g.id === 'dlq')).toBe(false)
    expect(gate(result, 'import').evidence).toContain(`Celery ${version}`)
    expect(gate(result, 'broker-config').evidence).toContain(`sqla+postgresql://***@127.0.0.1:${pg.port}/${db.database}`)
    expect(gate(result, 'broker-config').evidence).toContain(`db+postgresql://***@127.0.0.1:${pg.port}/${db.database}`)
    expect(gate(result, 'runtime').evidence).toMatch(/^`cfg-[0-9a-f]{8}@\S+ ready\.`\ncelery\.ping answered 'pong' \d+ ms after ready/)
    expect(gate(result, 'db-access').evidence).toMatch(/14 of 14 needed privileges held/)
    expect(gate(result, 'rls-role').evidence).toContain(`all ${db.appRole}`)
    expect(gate(result, 'rls-role').evidence).toContain('public.invoices')
    expect(result.report?.ping?.status).toBe('SUCCESS')
    expect(result.report?.trace?.removed).toBe(true)
    expectCleanStep(result, db)
    // The run's trace is gone from the broker and result tables.
    const rows = await pg.query(
      db.database,
      `SELECT (SELECT count(*) FROM kombu_queue WHERE name LIKE 'cfg-%')::int AS queues, (SELECT count(*) FROM celery_taskmeta)::int AS results`
    )
    expect(rows[0]).toEqual({ queues: 0, results: 0 })
  })

  it('passes with a prefork pool, finding the sessions of the pool children too', async () => {
    const db = await exampleDatabase(pg)
    const result = await gates(version, db, { 'worker-args': '--pool=prefork --concurrency=2' })
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(gate(result, 'runtime').status).toBe('pass')
    expect(gate(result, 'rls-role').evidence).toMatch(new RegExp(`\\d+ sessions? of cfg-\\w+@\\S+ in pg_stat_activity, all ${db.appRole}`))
    expectCleanStep(result, db)
  })

  it('passes on a fresh database where the worker creates its own tables', async () => {
    const database = `fresh_${version.replace('.', '')}`
    const role = `${database}_app`
    const password = 'fresh-pw-1234'
    await pg.createDatabase(database)
    await pg.query(database, `CREATE ROLE ${role} LOGIN PASSWORD '${password}'; GRANT USAGE, CREATE ON SCHEMA public TO ${role}`)
    const db: ExampleDatabase = { database, appRole: role, ownerRole: role, password, url: pg.url(database, role, password) }
    const result = await gates(version, db)
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(gate(result, 'runtime').status).toBe('pass')
    expect(gate(result, 'db-access').status).toBe('pass')
    // No tenant table exists yet: the sessions' role is checked (a pass), and the evidence says
    // once, as a note, what was not checked and how to turn it on; tenant-isolation did not run.
    expect(gate(result, 'rls-role').status).toBe('pass')
    expect(gate(result, 'rls-role').evidence).toMatch(/no tenant table: RLS not checked \(set tenant-tables, or add a tenant_id column\)/)
    expect(gate(result, 'tenant-isolation').status).toBe('skip')
    expect(gate(result, 'tenant-isolation').evidence).toMatch(/no tenant table: isolation not checked/)
    // The worker created the broker/result tables, so it owns them: said, with why, not failed.
    expect(gate(result, 'rls-role').evidence).toMatch(new RegExp(`⚠️ ${role} owns the broker/result tables .*kombu_message`))
    expectCleanStep(result, db)
  })

  it('fails runtime fast when the database refuses the worker (wrong password)', async () => {
    const db = await exampleDatabase(pg)
    const wrong = `wrong-${db.password}`
    const result = await gates(version, db, { timeout: '60' }, pg.url(db.database, db.appRole, wrong))
    expectFailure(result, 'runtime', /refused the worker's connection: password authentication failed for user "[^"]+"/)
    // Fail fast: far below the 60 s the worker was given.
    expect(result.durationMs).toBeLessThan(30_000)
    expect(gate(result, 'import').status).toBe('pass')
    // Its SQL checks would use the same refused DSN: skipped with that reason, not failed again.
    expect(gate(result, 'db-access').status).toBe('skip')
    expect(gate(result, 'db-access').evidence).toMatch(/database refused the worker's DSN/)
    expectCleanStep(result, db, [wrong, encodeURIComponent(wrong)])
  })

  it("fails runtime with the worker's own last line when the worker dies on boot", async () => {
    const db = await exampleDatabase(pg)
    const result = await gates(version, db, { app: 'app.variants.dies_on_boot' })
    expectFailure(result, 'runtime', /exited with code \d+ .*before answering the ping[\s\S]*Unrecoverable error/)
    expectCleanStep(result, db)
  })
})

describe('broken variants (Celery 5.7)', () => {
  const version = '5.7'

  it('import error: the exception is the evidence, the traceback is in the report', async () => {
    const db = await exampleDatabase(pg)
    const result = await gates(version, db, { app: 'app.variants.import_error' })
    expectFailure(result, 'import', /ModuleNotFoundError: No module named '\w+'/)
    expect(result.report?.gates[0]?.details).toMatch(/Traceback \(most recent call last\)/)
    for (const id of ['broker-config', 'runtime', 'db-access', 'rls-role']) {
      expect(gate(result, id).status, id).toBe('skip')
      expect(gate(result, id).evidence, id).toBe('not run: `import` failed')
    }
    expectCleanStep(result, db)
  })

  it('redis broker: broker-config names the scheme', async () => {
    const db = await exampleDatabase(pg)
    const result = await gates(version, db, { app: 'app.variants.redis_broker' })
    expectFailure(result, 'broker-config', /broker is redis:\/\/ \(Redis\), not PostgreSQL/)
    expect(gate(result, 'runtime').status).toBe('skip')
    expectCleanStep(result, db)
  })

  it('rpc:// result backend: broker-config names the scheme', async () => {
    const db = await exampleDatabase(pg)
    const result = await gates(version, db, { app: 'app.variants.rpc_backend' })
    expectFailure(result, 'broker-config', /result backend is rpc:\/\/ \(RPC/)
    expectCleanStep(result, db)
  })

  it('superuser role: rls-role fails', async () => {
    const db = await exampleDatabase(pg, { variants: ['superuser'] })
    const result = await gates(version, db)
    expectFailure(result, 'rls-role', new RegExp(`${db.appRole} is SUPERUSER: it bypasses row-level security`))
    expect(gate(result, 'runtime').status).toBe('pass')
    expectCleanStep(result, db)
  })

  it('BYPASSRLS role: rls-role fails', async () => {
    const db = await exampleDatabase(pg, { variants: ['bypassrls'] })
    const result = await gates(version, db)
    expectFailure(result, 'rls-role', new RegExp(`${db.appRole} has BYPASSRLS`))
    expectCleanStep(result, db)
  })

  it('RLS not forced: rls-role names the table and the fix', async () => {
    const db = await exampleDatabase(pg, { variants: ['rls-not-forced'] })
    const result = await gates(version, db)
    expectFailure(result, 'rls-role', /public\.invoices: RLS is enabled but not forced.*FORCE ROW LEVEL SECURITY/)
    expectCleanStep(result, db)
  })

  it('a missing table privilege: db-access names the privilege, runtime fails', async () => {
    const db = await exampleDatabase(pg, { variants: ['missing-privilege'] })
    const result = await gates(version, db)
    expectFailure(result, 'db-access', new RegExp(`${db.appRole} lacks UPDATE on kombu_message`))
    expect(gate(result, 'runtime').status).toBe('fail')
    expectCleanStep(result, db)
  })

  it('an unreachable database: runtime fails fast with the connection error', async () => {
    const db = await exampleDatabase(pg)
    const closedPort = await freePort()
    const result = await gates(version, db, { timeout: '60' }, pg.url(db.database, db.appRole, db.password, closedPort))
    expectFailure(result, 'runtime', /refused the worker's connection: .*(Connection refused|ECONNREFUSED)/)
    expect(result.durationMs).toBeLessThan(30_000)
    expectCleanStep(result, db)
  })
})

// GitHub runs the bundle with its node24 runtime; .ci/run provides that binary (npm's `node`
// package) in NODE24, so the bundle is proven on the Node version users get.
describe.skipIf(!process.env.NODE24)('the bundle under Node 24', () => {
  it('passes every gate on the example app', async () => {
    const db = await exampleDatabase(pg)
    const result = await gates('5.7', db, {}, db.url, process.env.NODE24)
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(result.outputs.verdict).toBe('pass')
    expect(result.report?.versions.node).toMatch(/^24\./)
    expectCleanStep(result, db)
  })
})
