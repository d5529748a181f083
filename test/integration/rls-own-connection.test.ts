// rls-role on the connections the app opens itself: the worker's Celery sessions use app_user,
// but the app's data layer reads the invoices table through its own psycopg connection from
// another DSN (APP_DATA_URL), opened and closed long before the gate looks at pg_stat_activity.
// The in-process record (connections.py, installed by bootstrap.py before the app imports) must
// make rls-role fail naming the role, the module and the driver — and pass when that DSN uses
// app_user too. Real PostgreSQL, real workers (solo and prefork: the pool children's own
// connections are recorded by the hooks they inherit).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gate } from '../support/action.js'
import { exampleDatabase, runOnExample, secretsOf, escapeRegExp, secretsWithSuperuser } from '../support/example.js'
import { SUPERUSER, TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'

const GROUP = 'Faults'
const APP = 'app.variants.own_connection'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

describe("rls-role: the app's own data-layer connection", () => {
  it('fails when the data layer connects as the superuser, though Celery uses app_user (solo)', async () => {
    const db = await exampleDatabase(pg)
    const dataUrl = pg.url(db.database, SUPERUSER, pg.superPassword)
    const result = await runOnExample('5.7', db, { app: APP }, { env: { APP_DATA_URL: dataUrl } })
    checkStep(
      GROUP,
      "the app's own psycopg connection uses the superuser (solo)",
      result,
      {
        code: 1,
        gates: { 'rls-role': 'fail', runtime: 'pass' },
        // Two: at import, and as the solo pool starts (it fires worker_process_init in the worker itself).
        evidence: new RegExp(`${escapeRegExp(APP)} via psycopg: 2 connections as postgres, expected ${escapeRegExp(db.appRole)}`),
        timeoutS: 30,
        secrets: secretsWithSuperuser(db, pg, dataUrl)
      },
      'rls-role fails naming postgres, the module that connected and psycopg, although every Celery session is app_user'
    )
    // The role's own finding says where it was used.
    expect(gate(result, 'rls-role').evidence).toMatch(new RegExp(`postgres is SUPERUSER: .*\\(used by ${escapeRegExp(APP)} via psycopg`))
  })

  it("records the pool children's connections too (prefork)", async () => {
    const db = await exampleDatabase(pg)
    const dataUrl = pg.url(db.database, SUPERUSER, pg.superPassword)
    const result = await runOnExample('5.7', db, { app: APP, 'worker-args': '--pool=prefork --concurrency=2' }, { env: { APP_DATA_URL: dataUrl } })
    checkStep(
      GROUP,
      "the app's own psycopg connection uses the superuser (prefork)",
      result,
      {
        code: 1,
        gates: { 'rls-role': 'fail', runtime: 'pass' },
        // One at import in the main process, one in each of the two children as it starts.
        evidence: new RegExp(`${escapeRegExp(APP)} via psycopg: 3 connections as postgres`),
        timeoutS: 30,
        secrets: secretsWithSuperuser(db, pg, dataUrl)
      },
      "rls-role fails counting the main process's and both pool children's connections as postgres"
    )
  })

  it('records psycopg2 connections on Celery 5.2 (SQLAlchemy 1.4)', async () => {
    const db = await exampleDatabase(pg)
    const dataUrl = pg.url(db.database, SUPERUSER, pg.superPassword)
    const result = await runOnExample('5.2', db, { app: APP }, { env: { APP_DATA_URL: dataUrl } })
    checkStep(
      GROUP,
      "the app's own psycopg2 connection uses the superuser (Celery 5.2)",
      result,
      {
        code: 1,
        gates: { 'rls-role': 'fail', runtime: 'pass' },
        evidence: new RegExp(`${escapeRegExp(APP)} via psycopg2: 2 connections as postgres, expected ${escapeRegExp(db.appRole)}`),
        timeoutS: 30,
        secrets: secretsWithSuperuser(db, pg, dataUrl)
      },
      'rls-role fails naming postgres, the module and psycopg2'
    )
    expect(gate(result, 'rls-role').evidence).toMatch(new RegExp(`broker via sqlalchemy: \\d+ connections? as ${escapeRegExp(db.appRole)}`))
  })

  it('passes when the data layer uses app_user too, and lists every identity', async () => {
    const db = await exampleDatabase(pg)
    const result = await runOnExample('5.7', db, { app: APP }, { env: { APP_DATA_URL: db.url } })
    const role = escapeRegExp(db.appRole)
    checkStep(
      GROUP,
      "the app's own psycopg connection uses app_user",
      result,
      {
        code: 0,
        gates: { 'rls-role': 'pass' },
        evidence: new RegExp(`recorded in-process\\): .*${escapeRegExp(APP)} via psycopg: 2 connections as ${role}`),
        timeoutS: 30,
        secrets: secretsOf(db)
      },
      'rls-role passes and lists the app connection with where it was opened'
    )
    // Celery's own connections are recorded as well, attributed to the broker and result backend.
    const evidence = gate(result, 'rls-role').evidence
    expect(evidence).toMatch(new RegExp(`broker via sqlalchemy: \\d+ connections? as ${role}`))
    expect(evidence).toMatch(new RegExp(`result backend via sqlalchemy: \\d+ connections? as ${role}`))
  })
})
