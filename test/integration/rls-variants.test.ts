// rls-role on the realistic two-connection shape (Celery on DATABASE_URL, the app's data layer on
// APP_DATA_URL), with the identities a real project gets wrong: the data layer logging in as the
// tenant table's owner; a data-layer connection with its own application_name (which the
// pg_stat_activity look keyed on the run's name never sees); the worker role owning the tenant
// table (prefork; solo is in rls-identities); and a connection that goes around every hooked
// driver (libpq through ctypes), seen only by sampling pg_stat_activity during the run. Each must
// fail naming the role, where it was seen and what to do. Real PostgreSQL, real Celery 5.7 workers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gate } from '../support/action.js'
import { exampleDatabase, runOnExample, secretsOf, escapeRegExp, secretsWithSuperuser } from '../support/example.js'
import { SUPERUSER, TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'

const GROUP = 'Trust'
const OWN = 'app.variants.own_connection'
const BYPASS = 'app.variants.bypass_hooks'
const PREFORK = '--pool=prefork --concurrency=2'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

describe("rls-role: the data layer logs in as the tenant table's owner", () => {
  for (const [pool, args, count] of [
    ['solo', '--pool=solo', 2],
    ['prefork', PREFORK, 3]
  ] as const) {
    it(`fails naming the owner, where it was used, the risk and the fix (${pool})`, async () => {
      const db = await exampleDatabase(pg, { variants: ['owner-can-login'] })
      const dataUrl = pg.url(db.database, db.ownerRole, db.password)
      const result = await runOnExample('5.7', db, { app: OWN, 'worker-args': args }, { env: { APP_DATA_URL: dataUrl } })
      const owner = escapeRegExp(db.ownerRole)
      const used = `${escapeRegExp(OWN)} via psycopg: ${count} connections as ${owner}`
      checkStep(
        GROUP,
        `the app's data layer connects as the tenant table's owner (${pool})`,
        result,
        {
          code: 1,
          gates: { 'rls-role': 'fail', runtime: 'pass' },
          evidence: new RegExp(
            // Sampling may have seen some of the same sessions: said after the record's count.
            `${owner} owns tenant table public\\.invoices \\(used by ${used}.*?\\): an owner can ALTER TABLE … NO FORCE or DISABLE ROW LEVEL SECURITY at any time and read every tenant's rows — connect that code as ${escapeRegExp(db.appRole)}; the table's owner stays a migration role that the app never logs in as`
          ),
          timeoutS: 30,
          secrets: [...secretsOf(db), dataUrl]
        },
        'rls-role fails naming the owner role, the module and driver that used it, NO FORCE ROW LEVEL SECURITY and to connect as the app role'
      )
      expect(gate(result, 'rls-role').evidence).toMatch(new RegExp(`${used}, expected ${escapeRegExp(db.appRole)}`))
    })
  }
})

describe('rls-role: a data-layer connection with its own application_name', () => {
  for (const [pool, args, count] of [
    ['solo', '--pool=solo', 2],
    ['prefork', PREFORK, 3]
  ] as const) {
    it(`is still caught and named when it uses the superuser (${pool})`, async () => {
      const db = await exampleDatabase(pg)
      const dataUrl = `${pg.url(db.database, SUPERUSER, pg.superPassword)}?application_name=reports-etl`
      const result = await runOnExample('5.7', db, { app: OWN, 'worker-args': args }, { env: { APP_DATA_URL: dataUrl } })
      checkStep(
        GROUP,
        `the app's data layer sets application_name=reports-etl and uses the superuser (${pool})`,
        result,
        {
          code: 1,
          gates: { 'rls-role': 'fail', runtime: 'pass' },
          evidence: new RegExp(
            `${escapeRegExp(OWN)} via psycopg: ${count} connections as postgres, expected ${escapeRegExp(db.appRole)}: connect it as ${escapeRegExp(db.appRole)}`
          ),
          timeoutS: 30,
          secrets: secretsWithSuperuser(db, pg, dataUrl)
        },
        "rls-role fails naming postgres, the module and psycopg: the record does not depend on the session's application_name"
      )
      expect(gate(result, 'rls-role').evidence).toMatch(
        new RegExp(`postgres is SUPERUSER: .*use a dedicated|postgres is SUPERUSER: .*dedicated least-privilege role`)
      )
    })
  }
})

describe('rls-role: the worker role owns the tenant table (prefork)', () => {
  it('fails naming the role, the table and the OWNER TO fix', async () => {
    const db = await exampleDatabase(pg, { variants: ['worker-owns-tenant-table'] })
    const result = await runOnExample('5.7', db, { 'worker-args': PREFORK })
    checkStep(
      GROUP,
      'the worker role owns the tenant table (prefork)',
      result,
      {
        code: 1,
        gates: { 'rls-role': 'fail', runtime: 'pass' },
        evidence: new RegExp(
          `${escapeRegExp(db.appRole)} owns tenant table public\\.invoices: .*NO FORCE.*ALTER TABLE "public"\\."invoices" OWNER TO "<migration role>"`
        ),
        timeoutS: 30,
        secrets: secretsOf(db)
      },
      'rls-role fails naming the role, public.invoices and ALTER TABLE … OWNER TO "<migration role>"'
    )
  })
})

describe('rls-role: a connection that goes around the in-process hooks (libpq through ctypes)', () => {
  for (const [pool, args] of [
    ['solo', '--pool=solo'],
    ['prefork', PREFORK]
  ] as const) {
    it(`is seen by sampling pg_stat_activity during the run (${pool})`, async () => {
      const db = await exampleDatabase(pg)
      const dataUrl = pg.url(db.database, SUPERUSER, pg.superPassword)
      const result = await runOnExample('5.7', db, { app: BYPASS, 'worker-args': args }, { env: { APP_DATA_URL: dataUrl } })
      checkStep(
        GROUP,
        `a libpq session through ctypes, held ~1.5 s as the superuser (${pool})`,
        result,
        {
          code: 1,
          gates: { 'rls-role': 'fail', runtime: 'pass' },
          evidence: new RegExp(
            `session with the run's application_name via pg_stat_activity: \\d+ connections? as postgres, expected ${escapeRegExp(db.appRole)}: connect it as ${escapeRegExp(db.appRole)}`
          ),
          timeoutS: 30,
          secrets: secretsWithSuperuser(db, pg, dataUrl)
        },
        'rls-role fails naming postgres, seen by sampling pg_stat_activity (the in-process record never saw it)'
      )
      const evidence = gate(result, 'rls-role').evidence
      expect(evidence).toMatch(/sessions of the worker's processes sampled in pg_stat_activity \(\d+ samples during the run\): .*as postgres/)
      // Not through a hooked driver: the in-process record has no postgres connection.
      expect(evidence).not.toMatch(/via psycopg2?: \d+ connections? as postgres/)
      expect(evidence).toMatch(/postgres is SUPERUSER: .*\(used by .*via pg_stat_activity/)
      // The bootstrap superuser's only fix is another role: no ALTER ROLE on it is suggested.
      expect(evidence).not.toMatch(/ALTER ROLE "postgres" NOBYPASSRLS/)
    })
  }

  it('is attributed to its process by its client port when it sets its own application_name (verifier with pg_read_all_stats)', async () => {
    const db = await exampleDatabase(pg)
    const verifier = `${db.database}_verifier`
    await pg.query(db.database, `CREATE ROLE "${verifier}" LOGIN PASSWORD '${db.password.replace(/'/g, "''")}' IN ROLE pg_read_all_stats`)
    const verifierUrl = pg.url(db.database, verifier, db.password)
    const dataUrl = pg.url(db.database, SUPERUSER, pg.superPassword)
    const result = await runOnExample(
      '5.7',
      db,
      { app: BYPASS, 'database-url': verifierUrl },
      { env: { APP_DATA_URL: dataUrl, BYPASS_APPLICATION_NAME: 'sneaky-etl' } }
    )
    checkStep(
      GROUP,
      'a libpq session through ctypes with its own application_name, as the superuser',
      result,
      {
        code: 1,
        gates: { 'rls-role': 'fail' },
        evidence: new RegExp(
          `\\S+ process \\(application_name sneaky-etl\\) via pg_stat_activity: 1 connection as postgres, expected ${escapeRegExp(db.appRole)}`
        ),
        timeoutS: 30,
        secrets: [...secretsWithSuperuser(db, pg, dataUrl), verifierUrl]
      },
      "rls-role fails naming postgres and the worker's process that held the session (matched by its TCP port)"
    )
  })
})

describe('rls-role: the example app with its data layer on app_user', () => {
  it('still passes, listing the sampled sessions', async () => {
    const db = await exampleDatabase(pg)
    const result = await runOnExample('5.7', db, { app: OWN }, { env: { APP_DATA_URL: db.url } })
    checkStep(
      GROUP,
      'the two-connection example on app_user (sessions sampled during the run)',
      result,
      {
        code: 0,
        gates: { 'rls-role': 'pass' },
        evidence: new RegExp(`sampled in pg_stat_activity \\(\\d+ samples during the run\\): .*as ${escapeRegExp(db.appRole)}`),
        timeoutS: 30,
        secrets: secretsOf(db)
      },
      "rls-role passes; its evidence lists the worker's sessions seen by sampling, all app_user"
    )
  })
})
