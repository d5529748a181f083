// Version drift (issue 14): tables, drivers and options made for other Celery, kombu and SQLAlchemy
// versions than the installed ones. Each case drives the bundled action on the example app with a
// real PostgreSQL and a real worker, with a 60 s timeout, and checks through checkStep that the
// right gate fails naming the column / driver / option and the fix, and that the step ends well
// before the timeout (the bound is checkStep's, not a timing assertion).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gate, type ActionResult } from '../support/action.js'
import { exampleDatabase, runOnExample, type ExampleDatabase, secretsOf } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'

const GROUP = 'Faults'
/** The timeout each case is given: waiting it out would be unmistakable. */
const TIMEOUT = '60'
/** What "within seconds" means here: boot, the cause, a stop — the bound checkStep enforces. */
const FAST = { timeoutS: 25, marginS: 0 }

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

const secrets = secretsOf

async function run(version: '5.7' | '5.2', variants: string[], app?: string): Promise<{ db: ExampleDatabase; result: ActionResult }> {
  const db = await exampleDatabase(pg, { variants })
  const result = await runOnExample(version, db, { timeout: TIMEOUT, ...(app ? { app } : {}) })
  return { db, result }
}

describe('Version drift', () => {
  it('result tables made by Celery 5.2, run by Celery 5.7 with a role that does not own them: runtime fails fast, db-access names the columns', async () => {
    const { db, result } = await run('5.7', ['celery52-result-tables'])
    checkStep(
      GROUP,
      'result tables of Celery 5.2 under Celery 5.7, non-owner role',
      result,
      {
        code: 1,
        gates: { runtime: 'fail', 'db-access': 'fail' },
        evidence: /celery_taskmeta lacks `children`, `stamps`[\s\S]*ALTER TABLE "celery_taskmeta" ADD COLUMN "children" BYTEA, ADD COLUMN "stamps" BYTEA/,
        ...FAST,
        secrets: secrets(db)
      },
      'runtime fails within seconds (not the 60 s timeout) quoting the missing column and the ALTER TABLE the owner runs'
    )
    expect(gate(result, 'runtime').evidence).toMatch(
      /cannot store or read results in celery_taskmeta: UndefinedColumn: column celery_taskmeta\.children does not exist/
    )
    expect(gate(result, 'runtime').evidence).toMatch(
      /at boot: Failed to add missing column '\w+' to table 'celery_taskmeta' \(must be owner of table celery_taskmeta\)/
    )
    expect(gate(result, 'db-access').evidence).toMatch(
      /celery_taskmeta lacks `children`, `stamps`, which Celery 5\.7\.\d+'s result model has[\s\S]*the owner \(\w+\) runs `ALTER TABLE "celery_taskmeta" ADD COLUMN "children" BYTEA, ADD COLUMN "stamps" BYTEA`/
    )
  })

  it('the same tables under Celery 5.2 pass: its model has neither column', async () => {
    const { db, result } = await run('5.2', ['celery52-result-tables'])
    checkStep(
      GROUP,
      'result tables of Celery 5.2 under Celery 5.2',
      result,
      { code: 0, gates: { runtime: 'pass', 'db-access': 'pass' }, evidence: /answered 'pong'/, timeoutS: 60, secrets: secrets(db) },
      'no false alarm: the installed Celery needs no children/stamps'
    )
    expect(gate(result, 'db-access').evidence).toMatch(/tables match the installed packages' models/)
  })

  it.each(['5.7', '5.2'] as const)('transport options copied from Redis: broker-config names the keys before the boot (Celery %s)', async (version) => {
    const { db, result } = await run(version, [], 'app.variants.redis_transport_options')
    checkStep(
      GROUP,
      `broker_transport_options that create_engine rejects (Celery ${version})`,
      result,
      {
        code: 1,
        gates: { 'broker-config': 'fail' },
        evidence:
          /broker_transport_options '(visibility_timeout|polling_interval)', '(visibility_timeout|polling_interval)'[\s\S]*create_engine\(\)[\s\S]*remove them/,
        ...FAST,
        secrets: secrets(db)
      },
      'broker-config fails naming visibility_timeout and polling_interval and the fix; the worker is not booted'
    )
    expect(gate(result, 'runtime').status).not.toBe('pass')
  })

  it('a driver that is not installed: broker-config names it and the fix before the boot', async () => {
    const { db, result } = await run('5.7', [], 'app.variants.missing_driver')
    checkStep(
      GROUP,
      'broker URL naming a driver that is not installed (pg8000)',
      result,
      {
        code: 1,
        gates: { 'broker-config': 'fail' },
        evidence:
          /broker URL gets the driver pg8000 from SQLAlchemy 2\.1[\s\S]*No module named 'pg8000'[\s\S]*install pg8000 in python, or write postgresql\+psycopg:\/\//,
        ...FAST,
        secrets: secrets(db)
      },
      'broker-config fails naming the driver, the missing module and the fix; the worker is not booted'
    )
  })
})
