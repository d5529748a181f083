// rls-role on the identities the app CONFIGURES (configured.py, read after import): Django's
// DATABASES, DSN-shaped settings and environment values — used during the run or not. The
// Django-style project (examples/tenant-app/djproject: settings module, DATABASES from its own DSN,
// config_from_object('django.conf:settings', namespace='CELERY'), autodiscovered tasks) reads the
// tenant table through Django's own connection, opened per task (CONN_MAX_AGE=0) and closed when
// the task ends. Real PostgreSQL, real Celery 5.7 workers (solo, and prefork once).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gate, type ActionResult } from '../support/action.js'
import { exampleDatabase, runOnExample, secretsOf, escapeRegExp, secretsWithSuperuser } from '../support/example.js'
import { SUPERUSER, TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'

const GROUP = 'Faults'
const DJANGO = { app: 'djproject', 'ping-task': 'djproject.billing.tasks.count_invoices' }

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

const folderOf = (result: ActionResult): string => path.join(result.runnerTemp, 'celery-foundation-gates', result.report?.runId ?? '')

/** The run folder's records (connections the worker opened, identities it configures, variables it read). */
function records(result: ActionResult): string {
  return ['connections.jsonl', 'configured.jsonl', 'env-reads.jsonl'].map((f) => readFileSync(path.join(folderOf(result), f), 'utf8')).join('\n')
}

/** What the worker's code read (env-reads.jsonl): names, readers and pids only, never a value. */
function readsOf(result: ActionResult): Array<{ name: string; by: string; pid: number }> {
  const lines = readFileSync(path.join(folderOf(result), 'env-reads.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
  return lines.map((l) => {
    const entry = JSON.parse(l) as { name: string; by: string; pid: number }
    expect(Object.keys(entry).sort()).toEqual(['by', 'name', 'pid'])
    return entry
  })
}
const namesRead = (result: ActionResult): string[] => readsOf(result).map((e) => e.name)

/** No password (plain or percent-encoded) in the records the worker wrote. */
function expectNoPasswordIn(result: ActionResult, passwords: string[]): void {
  const text = records(result)
  expect(text).toContain('"role"')
  for (const p of passwords) {
    expect(text).not.toContain(p)
    expect(text).not.toContain(encodeURIComponent(p))
  }
}

describe('rls-role: the identities a Django-style project configures', () => {
  it('passes when DATABASES uses app_user, listing the per-task connection and the configured aliases', async () => {
    const db = await exampleDatabase(pg)
    const result = await runOnExample('5.7', db, DJANGO)
    const role = escapeRegExp(db.appRole)
    checkStep(
      GROUP,
      "Django project: DATABASES['default'] as app_user",
      result,
      {
        code: 0,
        gates: { 'rls-role': 'pass', runtime: 'pass' },
        evidence: new RegExp(`configures \\(read after import\\): ${role} at DATABASES\\['default'\\]`),
        timeoutS: 30,
        secrets: secretsOf(db)
      },
      "rls-role passes and lists DATABASES['default'] as app_user beside the task's own connection"
    )
    // The task's connection, opened and closed by Django within the task, is in the in-process record.
    expect(gate(result, 'rls-role').evidence).toMatch(new RegExp(`djproject\\.billing\\.tasks via psycopg: \\d+ connections? as ${role}`))
    expectNoPasswordIn(result, [db.password])
  })

  it("fails when DATABASES['default'] is the superuser, although Celery uses app_user (solo)", async () => {
    const db = await exampleDatabase(pg)
    const superUrl = pg.url(db.database, SUPERUSER, pg.superPassword)
    const result = await runOnExample('5.7', db, DJANGO, { env: { DJANGO_DATABASE_URL: superUrl } })
    checkStep(
      GROUP,
      "Django project: DATABASES['default'] as the superuser, connection per task",
      result,
      {
        code: 1,
        gates: { 'rls-role': 'fail', runtime: 'pass' },
        evidence: new RegExp(
          `postgres is configured at DATABASES\\['default'\\].*\\(configured, and used during this run\\), expected ${escapeRegExp(db.appRole)}: configure ${escapeRegExp(db.appRole)} there`
        ),
        timeoutS: 30,
        secrets: secretsWithSuperuser(db, pg, superUrl)
      },
      "rls-role fails naming DATABASES['default'] and postgres, with what to configure instead"
    )
    const evidence = gate(result, 'rls-role').evidence
    // Django closed the task's connection at task end (CONN_MAX_AGE=0): the in-process record has it.
    expect(evidence).toMatch(/djproject\.billing\.tasks via psycopg: \d+ connections? as postgres/)
    expect(evidence).toMatch(/postgres is SUPERUSER: .*\(used by djproject\.billing\.tasks via psycopg.*; configured at DATABASES\['default'\]/)
    expectNoPasswordIn(result, [db.password, pg.superPassword])
  })

  it('fails on an alias configured as the superuser and never used during the run (prefork)', async () => {
    const db = await exampleDatabase(pg)
    const superUrl = pg.url(db.database, SUPERUSER, pg.superPassword)
    const result = await runOnExample('5.7', db, { ...DJANGO, 'worker-args': '--pool=prefork --concurrency=2' }, { env: { REPORTS_DATABASE_URL: superUrl } })
    checkStep(
      GROUP,
      "Django project: an unused DATABASES['reports'] alias as the superuser (prefork)",
      result,
      {
        code: 1,
        gates: { 'rls-role': 'fail', runtime: 'pass' },
        evidence: new RegExp(
          `postgres is configured at DATABASES\\['reports'\\].*\\(configured, not used during this run\\), expected ${escapeRegExp(db.appRole)}`
        ),
        timeoutS: 30,
        secrets: secretsWithSuperuser(db, pg, superUrl)
      },
      "rls-role fails naming DATABASES['reports'] and postgres, saying it was configured but not used during this run"
    )
    const evidence = gate(result, 'rls-role').evidence
    expect(evidence).toMatch(/postgres is SUPERUSER: .*\(configured at DATABASES\['reports'\].*, not used during this run\)/)
    // The alias's DSN came from the environment: that is said, with where to set it instead.
    expect(evidence).toMatch(/env REPORTS_DATABASE_URL.*set it only on the steps that need it/)
    // The default alias (app_user) served the task in a pool child.
    expect(evidence).toMatch(new RegExp(`djproject\\.billing\\.tasks via psycopg: \\d+ connections? as ${escapeRegExp(db.appRole)}`))
    expectNoPasswordIn(result, [db.password, pg.superPassword])
  })
  it("fails on an engine created at import as the tenant table's owner, never connected", async () => {
    const db = await exampleDatabase(pg)
    const result = await runOnExample('5.7', db, DJANGO, { env: { ANALYTICS_DB_USER: db.ownerRole, ANALYTICS_DB_PASSWORD: db.password } })
    const owner = escapeRegExp(db.ownerRole)
    checkStep(
      GROUP,
      'Django project: an engine created at import as the table owner, unused',
      result,
      {
        code: 1,
        gates: { 'rls-role': 'fail', runtime: 'pass' },
        evidence: new RegExp(`${owner} is configured at engine created at djproject\\.billing\\.analytics:\\d+ \\(configured, not used during this run\\)`),
        timeoutS: 30,
        secrets: secretsOf(db)
      },
      'rls-role fails naming the owner role and the line that created the engine, which never connected'
    )
    // The owner can switch RLS off: that finding says where the role is configured too.
    expect(gate(result, 'rls-role').evidence).toMatch(
      new RegExp(
        `${owner} owns tenant table public\\.invoices: .*\\(configured at engine created at djproject\\.billing\\.analytics:\\d+, not used during this run\\)`
      )
    )
    expectNoPasswordIn(result, [db.password])
  })
})

describe('rls-role: DSN-shaped environment values of the example app', () => {
  it('passes on the example app, listing the identities it configures', async () => {
    const db = await exampleDatabase(pg)
    const result = await runOnExample('5.7', db)
    const role = escapeRegExp(db.appRole)
    checkStep(
      GROUP,
      'example app: every configured identity is app_user',
      result,
      {
        code: 0,
        gates: { 'rls-role': 'pass' },
        evidence: new RegExp(`configures \\(read after import\\): ${role} at celery conf broker_url, celery conf result_backend, env DATABASE_URL`),
        timeoutS: 30,
        secrets: secretsOf(db)
      },
      'rls-role passes and lists the broker, result backend and DATABASE_URL as app_user'
    )
  })

  it('only notes a superuser DSN the worker inherits but never reads (prefork)', async () => {
    const db = await exampleDatabase(pg)
    const superUrl = pg.url(db.database, SUPERUSER, pg.superPassword)
    const result = await runOnExample('5.7', db, { 'worker-args': '--pool=prefork --concurrency=2' }, { env: { MIGRATIONS_DATABASE_URL: superUrl } })
    checkStep(
      GROUP,
      'example app: a superuser DSN in the worker environment, never read (prefork)',
      result,
      {
        code: 0,
        gates: { 'rls-role': 'pass', runtime: 'pass' },
        evidence:
          /⚠️ MIGRATIONS_DATABASE_URL holds a DSN for postgres that this worker inherits but never read during the run: pull-request code could still use it — set it only in the env: of the steps that need it/,
        timeoutS: 30,
        secrets: secretsWithSuperuser(db, pg, superUrl)
      },
      "rls-role passes and notes the inherited, unread variable, saying to keep it out of the worker's environment"
    )
    const evidence = gate(result, 'rls-role').evidence
    expect(evidence).not.toMatch(/postgres is (configured|SUPERUSER)/)
    // The app's own variable was read (by its factory), so it is judged, and says by whom.
    expect(evidence).toMatch(new RegExp(`${escapeRegExp(db.appRole)} at .*env DATABASE_URL \\(read by app\\.`))
    const names = namesRead(result)
    expect(names).toContain('DATABASE_URL')
    expect(names).not.toContain('MIGRATIONS_DATABASE_URL')
    expectNoPasswordIn(result, [db.password, pg.superPassword])
  })

  it('fails on a superuser DSN read only by a task, in a pool child (prefork)', async () => {
    const db = await exampleDatabase(pg)
    const superUrl = pg.url(db.database, SUPERUSER, pg.superPassword)
    const inputs = { app: 'app.variants.env_in_task', 'ping-task': 'app.variants.env_in_task.reports_ready', 'worker-args': '--pool=prefork --concurrency=2' }
    const result = await runOnExample('5.7', db, inputs, { env: { REPORTS_URL: superUrl } })
    checkStep(
      GROUP,
      'example app variant: a superuser DSN read by a task in a pool child (prefork)',
      result,
      {
        code: 1,
        gates: { 'rls-role': 'fail', runtime: 'pass' },
        evidence: new RegExp(
          `postgres is configured at env REPORTS_URL \\(read by app\\.variants\\.env_in_task:\\d+\\) \\(configured, not used during this run\\), expected ${escapeRegExp(db.appRole)}`
        ),
        timeoutS: 30,
        secrets: secretsWithSuperuser(db, pg, superUrl)
      },
      'rls-role fails naming REPORTS_URL, read by the task in a pool child, and postgres'
    )
    // Read in a pool child, not in the process that imported the app (which read DATABASE_URL).
    const reads = readsOf(result)
    const pidOf = (name: string): number | undefined => reads.find((e) => e.name === name)?.pid
    expect(pidOf('REPORTS_URL')).toBeDefined()
    expect(pidOf('REPORTS_URL')).not.toBe(pidOf('DATABASE_URL'))
    expectNoPasswordIn(result, [db.password, pg.superPassword])
  })

  it("fails on a superuser DSN the app's code reads at import, although no task uses it", async () => {
    const db = await exampleDatabase(pg)
    const superUrl = pg.url(db.database, SUPERUSER, pg.superPassword)
    const result = await runOnExample('5.7', db, DJANGO, { env: { MIGRATIONS_DATABASE_URL: superUrl } })
    checkStep(
      GROUP,
      'Django project: a superuser DSN read from the environment at import, unused',
      result,
      {
        code: 1,
        gates: { 'rls-role': 'fail', runtime: 'pass' },
        evidence: new RegExp(
          `postgres is configured at env MIGRATIONS_DATABASE_URL \\(read by djproject\\.billing\\.maintenance:\\d+\\) \\(configured, not used during this run\\), expected ${escapeRegExp(db.appRole)}: .*set it only on the steps that need it`
        ),
        timeoutS: 30,
        secrets: secretsWithSuperuser(db, pg, superUrl)
      },
      'rls-role fails naming the variable, the module that read it and postgres'
    )
    expect(gate(result, 'rls-role').evidence).toMatch(
      /postgres is SUPERUSER: .*configured at env MIGRATIONS_DATABASE_URL \(read by djproject\.billing\.maintenance/
    )
    expect(namesRead(result)).toContain('MIGRATIONS_DATABASE_URL')
    expectNoPasswordIn(result, [db.password, pg.superPassword])
  })
})
