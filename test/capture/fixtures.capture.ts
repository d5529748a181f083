// Regenerates test/fixtures/reports/*.json from real runs of the bundled action (a real
// PostgreSQL, real Celery 5.7 workers), with the values that differ on every run (ids, ports,
// host and paths) replaced by stable ones, so the golden summaries show what users really get.
// Run with `npm run capture-fixtures`, then `UPDATE_GOLDEN=1 npm run test:unit` and review the diff.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { hostname } from 'node:os'
import { afterAll, beforeAll, it } from 'vitest'
import { EXAMPLE_APP, REPO, pythonFor, runAction, type ActionResult } from '../support/action.js'
import { exampleDatabase, type ExampleDatabase } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

function normalise(result: ActionResult, db: ExampleDatabase): string {
  return result.reportText
    .split(db.appRole)
    .join('app_user')
    .split(db.ownerRole)
    .join('gate_owner')
    .split(db.database)
    .join('gatelab')
    .replace(/cfg-[0-9a-f]{8}/g, 'cfg-7d1c0e9a')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:5432')
    .replace(/port \d{4,5}/g, 'port 5432')
    .split(hostname())
    .join('fv-az1785-417')
    .split(result.runnerTemp)
    .join('/home/runner/work/_temp')
    .split(REPO)
    .join('/home/runner/work/shop/shop')
    .replace(/\/tmp\/cfg-step-\w+/g, '/home/runner/work/_temp')
    .replace(/\/tmp\/cfg-capture-\w+\/junit\.xml/g, 'reports/junit.xml')
    .replace(/pytest-of-root\/pytest-\d+/g, 'pytest-of-runner/pytest-0')
}

const inputs = (db: ExampleDatabase, extra: Record<string, string> = {}): Record<string, string> => ({
  app: 'app.celery_app',
  'working-directory': EXAMPLE_APP,
  python: pythonFor('5.7'),
  'expected-role': db.appRole,
  timeout: '60',
  'worker-args': '--pool=solo',
  // The dead-letter inputs, so every fixture shows all the gates, the dlq probe included.
  'dlq-table': 'worker_failed_jobs',
  'dlq-probe-task': 'app.tasks.housekeeping.fail',
  ...extra
})

/** The example app's pytest suite against the scenario's database, as a user's test step runs it. */
function pytest(databaseUrl: string): string {
  const junit = path.join(mkdtempSync(path.join(tmpdir(), 'cfg-capture-')), 'junit.xml')
  spawnSync(pythonFor('5.7'), ['-m', 'pytest', `--junitxml=${junit}`, '-q'], { cwd: EXAMPLE_APP, env: { ...process.env, DATABASE_URL: databaseUrl } })
  return junit
}

const scenarios: Array<{
  name: string
  variants?: string[]
  inputs?: Record<string, string>
  wrongPassword?: boolean
  cancelAfterMs?: number
  /** Run the example suite first and classify its report (`junit`). */
  tests?: boolean
}> = [
  { name: 'all-pass' },
  { name: 'runtime-wrong-password', wrongPassword: true },
  { name: 'import-error', inputs: { app: 'app.variants.import_error' } },
  { name: 'rls-role-bypassrls', variants: ['bypassrls'] },
  { name: 'broker-config-redis', inputs: { app: 'app.variants.redis_broker' } },
  { name: 'input-error', inputs: { timeout: 'abc' } },
  { name: 'cancelled', inputs: { 'ping-task': 'app.tasks.housekeeping.nap' }, cancelAfterMs: 4000 },
  { name: 'tests-suite-red', tests: true },
  { name: 'tests-foundation-red', variants: ['superuser'], tests: true },
  { name: 'tests-report-findings', inputs: { junit: 'reports/nothing-*.xml\npytest.ini' } }
]

it('captures the report fixtures from real runs', async () => {
  for (const s of scenarios) {
    const db = await exampleDatabase(pg, { variants: s.variants })
    const junit: Record<string, string> = s.tests ? { junit: pytest(db.url) } : {}
    const result = await runAction(inputs(db, { ...junit, ...s.inputs }), {
      env: { DATABASE_URL: s.wrongPassword ? pg.url(db.database, db.appRole, 'wrong-password') : db.url },
      onSpawn: s.cancelAfterMs ? (child) => setTimeout(() => child.kill('SIGINT'), s.cancelAfterMs) : undefined
    })
    writeFileSync(`${REPO}/test/fixtures/reports/${s.name}.json`, normalise(result, db))
  }
}, 300_000)
