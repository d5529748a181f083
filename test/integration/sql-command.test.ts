// The `sql` command's done-when (issue 14): its output — read by each Celery version's own
// interpreter from the installed packages' models — applied by a superuser to an EMPTY database
// (only the two roles exist), plus the example app's own objects (sql/app-objects.sql: the RLS
// tenant table and the dead-letter table), makes the example app pass every gate on a real
// PostgreSQL with a real worker, on Celery 5.2 and 5.7. Then the CLI's own contract: SQL on
// stdout only, one-line errors, exit codes.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GATE_IDS } from '../../src/constants.js'
import { EXAMPLE_APP, REPO, gate, pythonFor, type CeleryVersion } from '../support/action.js'
import { runCli } from '../support/cli.js'
import { SQL_DIR, runOnExample, secretsOf, type ExampleDatabase } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`

/** An empty database and the two roles the sql command's header asks for; nothing else. */
async function emptyDatabase(tag: string): Promise<ExampleDatabase> {
  const database = `sql${tag}_${randomBytes(3).toString('hex')}`
  const appRole = `${database}_app`
  const ownerRole = `${database}_owner`
  const password = `pw-${randomBytes(6).toString('hex')}@:/%`
  await pg.createDatabase(database)
  await pg.query('postgres', `CREATE ROLE ${quote(ownerRole)} NOLOGIN`)
  await pg.query('postgres', `CREATE ROLE ${quote(appRole)} LOGIN PASSWORD '${password.replace(/'/g, "''")}'`)
  return { database, appRole, ownerRole, password, url: pg.url(database, appRole, password) }
}

function sqlArgs(version: CeleryVersion, db: ExampleDatabase, app = 'app.celery_app'): string[] {
  return [
    'sql',
    '--app',
    app,
    '--working-directory',
    path.relative(REPO, EXAMPLE_APP),
    '--python',
    pythonFor(version),
    '--owner',
    db.ownerRole,
    '--role',
    db.appRole
  ]
}

describe.each(['5.7', '5.2'] as const)("the sql command's output on Celery %s", (version) => {
  it('applied to an empty database (twice: it is idempotent), with the app objects, makes every gate pass', async () => {
    const db = await emptyDatabase(version.replace('.', ''))
    // The app reads DATABASE_URL at import; the sql command never connects with it.
    const run = await runCli(sqlArgs(version, db), { DATABASE_URL: db.url })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toBe('')
    const script = run.stdout
    expect(script).toMatch(/^-- The schema a least-privilege Celery worker needs/)
    expect(script).toContain(`SET ROLE ${quote(db.ownerRole)};`)
    expect(script).toContain(`GRANT SELECT, INSERT, UPDATE ON "kombu_message" TO ${quote(db.appRole)};`)
    // The installed Celery's own model: 5.7 has children/stamps and the date_done indexes, 5.2 not.
    if (version === '5.7') expect(script).toMatch(/children BYTEA[\s\S]*stamps BYTEA[\s\S]*ix_celery_taskmeta_date_done/)
    else expect(script).not.toMatch(/children|stamps|ix_celery_taskmeta_date_done/)
    expect(script).not.toContain(db.password)

    await pg.query(db.database, script)
    await pg.query(db.database, script)
    await pg.applySqlFile(db.database, path.join(SQL_DIR, 'app-objects.sql'), { owner_role: db.ownerRole, app_role: db.appRole })
    // The owner owns what it made; the worker's role owns nothing.
    const owners = await pg.query<{ relname: string; owner: string }>(
      db.database,
      "SELECT relname::text, pg_get_userbyid(relowner)::text AS owner FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'S')"
    )
    expect(owners.length).toBeGreaterThanOrEqual(10)
    expect(owners.filter((o) => o.owner !== db.ownerRole)).toEqual([])

    const result = await runOnExample(version, db, { timeout: '60' })
    checkStep(
      'Faults',
      `schema from the sql command (Celery ${version}) on an empty database`,
      result,
      {
        code: 0,
        gates: Object.fromEntries(GATE_IDS.filter((g) => g !== 'dlq').map((g) => [g, 'pass'])),
        evidenceOf: 'db-access',
        evidence: /14 of 14 needed privileges held/,
        timeoutS: 60,
        secrets: secretsOf(db)
      },
      'no false alarm: the generated DDL and grants are what the installed packages and the gates need'
    )
    expect(gate(result, 'db-access').evidence).toMatch(/4 tables match the installed packages' models/)
    expect(result.report?.trace?.removed).toBe(true)
  })

  it('configured table names and a result schema: the DDL, the grants and the gates use them', async () => {
    const db = await emptyDatabase(`c${version.replace('.', '')}`)
    const app = 'app.variants.custom_tables'
    const run = await runCli(sqlArgs(version, db, app), { DATABASE_URL: db.url })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`CREATE SCHEMA IF NOT EXISTS "results" AUTHORIZATION ${quote(db.ownerRole)};`)
    expect(run.stdout).toMatch(/CREATE TABLE IF NOT EXISTS mq_message \(/)
    // Celery's configure() moves the result sequences into the result schema.
    expect(run.stdout).toContain('CREATE SEQUENCE IF NOT EXISTS results.task_id_sequence')
    expect(run.stdout).toContain(`GRANT USAGE ON SEQUENCE "results"."task_id_sequence" TO ${quote(db.appRole)};`)
    await pg.query(db.database, run.stdout)
    await pg.applySqlFile(db.database, path.join(SQL_DIR, 'app-objects.sql'), { owner_role: db.ownerRole, app_role: db.appRole })
    const result = await runOnExample(version, db, { app, timeout: '60' })
    checkStep(
      'Faults',
      `schema from the sql command for configured table names and a result schema (Celery ${version})`,
      result,
      {
        code: 0,
        gates: Object.fromEntries(GATE_IDS.filter((g) => g !== 'dlq').map((g) => [g, 'pass'])),
        evidenceOf: 'db-access',
        evidence: /14 of 14 needed privileges held/,
        timeoutS: 60,
        secrets: secretsOf(db)
      },
      'the names the app configures are the ones created, granted and checked'
    )
    expect(gate(result, 'db-access').evidence).toMatch(/4 tables match the installed packages' models/)
  })
})

describe('sql command: input and output', () => {
  const example = (app: string): string[] => [
    'sql',
    '--app',
    app,
    '--working-directory',
    path.relative(REPO, EXAMPLE_APP),
    '--python',
    pythonFor('5.7'),
    '--role',
    'w'
  ]
  const env = { DATABASE_URL: 'postgresql://nobody:secret-pw@127.0.0.1:1/none' }

  it('only what the app uses: a Redis broker or an rpc:// backend gets a comment, nothing created or granted for it', async () => {
    const redis = await runCli(example('app.variants.redis_broker'), env)
    expect(redis.code, redis.stderr).toBe(0)
    expect(redis.stdout).toMatch(/^-- Broker: (kombu\.transport\.redis\.Transport|redis:\/\/) keeps no tables in PostgreSQL\.$/m)
    expect(redis.stdout).not.toMatch(/kombu_queue|kombu_message/)
    expect(redis.stdout).toContain('CREATE TABLE IF NOT EXISTS celery_taskmeta (')
    const rpc = await runCli(example('app.variants.rpc_backend'), env)
    expect(rpc.code, rpc.stderr).toBe(0)
    expect(rpc.stdout).toContain('-- Results: celery.backends.rpc.RPCBackend keeps no tables in PostgreSQL.')
    expect(rpc.stdout).not.toMatch(/celery_taskmeta/)
    expect(rpc.stdout).toContain('CREATE TABLE IF NOT EXISTS kombu_message (')
  })

  it("a pgmq:// broker: PGMQ's install step instead of kombu's tables", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-pgmq-app-'))
    try {
      writeFileSync(
        path.join(dir, 'pgapp.py'),
        "from celery import Celery\napp = Celery('x', broker='pgmq://u:p@127.0.0.1/db', backend='db+postgresql://u:p@127.0.0.1/db')\n"
      )
      const run = await runCli(['sql', '--app', 'pgapp', '--working-directory', dir, '--python', pythonFor('5.7'), '--owner', 'o', '--role', 'w'], {})
      expect(run.code, run.stderr).toBe(0)
      expect(run.stdout).toContain("-- Broker: PGMQ (kombu's pgmq:// transport).")
      expect(run.stdout).toContain("first run the pgmq package's SQL install as the owner")
      expect(run.stdout).not.toMatch(/kombu_queue|kombu_message/)
      expect(run.stdout).toContain('GRANT SELECT, INSERT, UPDATE ON "celery_taskmeta" TO "w";')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('exits 2 with one line for a missing --app, an unknown flag, an invalid role', async () => {
    for (const [args, line] of [
      [['sql'], /^celery-foundation-gates sql: --app is required: /],
      [['sql', '--app', 'app.celery_app', '--bogus'], /^error: unknown option '--bogus'$/],
      [['sql', '--app', 'app.celery_app', '--role', ''], /^celery-foundation-gates sql: --role: expected a PostgreSQL role name/],
      [['sql', '--app', 'app.celery_app', '--owner', 'x'.repeat(64)], /^celery-foundation-gates sql: --owner: expected a PostgreSQL role name/],
      [['sql', '--app', 'not a module'], /^celery-foundation-gates sql: --app: expected a Python module path/],
      [['sql', '--app', 'app.celery_app', '--transport', 'redis'], /^error: option '--transport <name>' argument 'redis' is invalid/]
    ] as const) {
      const run = await runCli([...args], {})
      expect(run.code, args.join(' ')).toBe(2)
      expect(run.stdout).toBe('')
      const lines = run.stderr.trim().split('\n')
      expect(lines[0]).toMatch(line)
      expect(lines.slice(1).filter((l) => l !== '(run with --help for every flag)' && !l.startsWith('Allowed choices'))).toEqual([])
    }
  })

  it('exits 1 naming the import error when the app does not import, with nothing on stdout', async () => {
    const run = await runCli(
      ['sql', '--app', 'app.variants.import_error', '--working-directory', path.relative(REPO, EXAMPLE_APP), '--python', pythonFor('5.7')],
      {
        DATABASE_URL: 'postgresql://nobody:secret-pw@127.0.0.1:1/none'
      }
    )
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(/^celery-foundation-gates sql: the app did not import: \w+/)
    expect(run.stderr).not.toContain('secret-pw')
  })
})
