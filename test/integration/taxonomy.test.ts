// The failure taxonomy end to end, for real: the example app's pytest suite runs (pytest in the
// app's virtual environment, against a real PostgreSQL) on a healthy database and on broken ones,
// and the bundled action — booting its own worker on the same database — classifies the JUnit
// report that run wrote. The foundation's own verdict decides what a red test means.
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TaxonomyEntry } from '../../src/taxonomy/model.js'
import { EXAMPLE_APP, gate, leakedSecrets, processesOfRun, type ActionResult } from '../support/action.js'
import { exampleDatabase, runExamplePytest, runOnExample, type ExampleDatabase } from '../support/example.js'
import { freePort, TestPostgres } from '../support/postgres.js'
import { workspaceTempDir } from '../support/workspace.js'

let pg: TestPostgres
// Inside the workspace: the action reads reports only from there.
const reports = workspaceTempDir('cfg-junit-')

beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

/** Runs the example suite (or some of its files) the way a user's test step would. */
function pytest(databaseUrl: string, name: string, files: string[] = []): Promise<string> {
  return runExamplePytest(databaseUrl, path.join(reports, `${name}.xml`), files)
}

function action(db: ExampleDatabase, junit: string, extra: Record<string, string> = {}, databaseUrl = db.url): Promise<ActionResult> {
  return runOnExample('5.7', db, { junit, ...extra }, { env: { DATABASE_URL: databaseUrl } })
}

function taxonomy(result: ActionResult): TaxonomyEntry[] {
  return JSON.parse(result.outputs.taxonomy ?? '[]') as TaxonomyEntry[]
}

const categoryOf = (result: ActionResult, name: string): string | undefined => taxonomy(result).find((e) => e.name === name)?.category

function expectClean(result: ActionResult, db: ExampleDatabase): void {
  expect(leakedSecrets(result, [db.password, encodeURIComponent(db.password)])).toEqual([])
  expect(processesOfRun(result.report?.runId ?? '?')).toEqual([])
}

const READINESS = 'test_ping_task_runs_and_persists_result[readiness_timeout=0.3s]'
/** The suite as the seed's scenarios know it (the cases added for issue 15 are in taxonomy-2.test.ts). */
const SEED_FILES = [
  'tests/test_foundation.py',
  'tests/test_harness_async_bridge.py',
  'tests/test_harness_eager.py',
  'tests/test_harness_log_capture.py',
  'tests/test_harness_readiness.py'
]

describe("a healthy foundation with a red test suite (the seed's situation)", () => {
  let db: ExampleDatabase
  let junit: string
  beforeAll(async () => {
    db = await exampleDatabase(pg)
    junit = await pytest(db.url, 'healthy', SEED_FILES)
  })

  it('passes the foundation, marks CI mixed, and puts every red test on the harness', async () => {
    const result = await action(db, junit)
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(result.outputs.verdict).toBe('pass')
    expect(gate(result, 'ci').status).toBe('warn')
    expect(gate(result, 'ci').evidence).toMatch(/^foundation green, test suite red: remediate the tests/)
    expect(result.outputs['tests-failed']).toBe('7')
    const entries = taxonomy(result)
    expect(entries).toHaveLength(7)
    expect(entries.every((e) => e.category.startsWith('harness:'))).toBe(true)
    expect(categoryOf(result, READINESS)).toBe('harness:readiness')
    expect(categoryOf(result, 'test_eager_ping_sends_task_received')).toBe('harness:eager-mode')
    expect(categoryOf(result, 'test_worker_logs_are_structured')).toBe('harness:log-capture')
    expect(categoryOf(result, 'test_webhook_import_writes_invoices')).toBe('harness:async-bridge')
    // The readiness remediation quotes how fast this very run's worker answered.
    const readiness = entries.find((e) => e.name === READINESS)
    expect(readiness?.remediation).toMatch(/pong \d+ ms after the worker printed ready \(\d+ ms after it was started\)/)
    expect(readiness?.report).toBe(junit)
    // The summary carries the seed's two tables and its closing sentence; the report the array.
    expect(result.summary).toContain('### Failure taxonomy')
    expect(result.summary).toMatch(/\| Test \| Type \| Gate violated\? \| Root-cause category \|/)
    expect(result.summary).toMatch(/\| Component \| Status \| Evidence \|/)
    expect(result.summary).toMatch(/Foundation green, test suite red: remediate the tests/i)
    expect(result.report?.tests?.taxonomy).toEqual(entries)
    expectClean(result, db)
  })

  it('with fail-on: any, the same red suite fails the step', async () => {
    const result = await action(db, junit, { 'fail-on': 'any' })
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/::error::7 tests failed: foundation green, test suite red/)
    expectClean(result, db)
  })

  it('a glob that matches nothing and a malformed report are findings, never a crash', async () => {
    const result = await action(db, `${path.join(reports, 'nothing-*.xml')}\n${path.join(EXAMPLE_APP, 'pytest.ini')}`)
    expect(result.code).toBe(0)
    const tests = result.report?.tests
    expect(tests?.unmatched).toEqual([path.join(reports, 'nothing-*.xml')])
    expect(tests?.files[0]?.status).toMatch(/malformed|not-junit/)
    expect(result.summary).toMatch(/nothing-\*\.xml/)
    expect(gate(result, 'ci').evidence).toMatch(/2 test reports could not be read/)
    expectClean(result, db)
  })
})

describe('a broken foundation: the red tests follow from it', () => {
  it('as a SUPERUSER: rls-role fails and the tenant tests are attributed to it', async () => {
    const db = await exampleDatabase(pg, { variants: ['superuser'] })
    const junit = await pytest(db.url, 'superuser', SEED_FILES)
    const result = await action(db, junit)
    expect(result.code).toBe(1)
    expect(gate(result, 'rls-role').status).toBe('fail')
    expect(gate(result, 'ci').status).toBe('pass')
    for (const name of [
      'test_app_role_is_not_superuser_and_cannot_bypass_rls',
      'test_no_invoices_visible_without_tenant',
      'test_tenant_sees_only_its_own_invoices'
    ])
      expect(categoryOf(result, name), name).toBe('foundation:rls-role')
    expect(categoryOf(result, 'test_webhook_import_writes_invoices')).toBe('harness:async-bridge')
    expect(result.report?.tests?.verdict).toMatch(/^foundation red, test suite red: fix the foundation first — 3 of 10 failing tests follow from it/)
    expectClean(result, db)
  })

  it('without a table privilege: db-access fails and the worker-dependent tests are attributed to it', async () => {
    const db = await exampleDatabase(pg, { variants: ['missing-privilege'] })
    const junit = await pytest(db.url, 'missing-privilege', SEED_FILES)
    const result = await action(db, junit)
    expect(result.code).toBe(1)
    expect(gate(result, 'db-access').status).toBe('fail')
    expect(categoryOf(result, 'test_app_role_can_lock_broker_messages')).toBe('foundation:db-access')
    expect(categoryOf(result, 'test_celery_ping_round_trip_via_real_worker')).toBe('foundation:db-access')
    expect(categoryOf(result, 'test_eager_ping_sends_task_received')).toBe('harness:eager-mode')
    expectClean(result, db)
  })

  it('with the broker unreachable: every failure of the foundation tests is the refused database', async () => {
    const db = await exampleDatabase(pg)
    const closed = pg.url(db.database, db.appRole, db.password, await freePort())
    // The foundation and readiness modules: the eager ones wait ~8 s each for the backend's retries.
    const junit = await pytest(closed, 'unreachable', ['tests/test_foundation.py', 'tests/test_harness_readiness.py'])
    const result = await action(db, junit, {}, closed)
    expect(result.code).toBe(1)
    expect(gate(result, 'runtime').status).toBe('fail')
    const entries = taxonomy(result)
    expect(entries.length).toBeGreaterThanOrEqual(7)
    expect(new Set(entries.map((e) => e.category))).toEqual(new Set(['foundation:runtime']))
    expect(result.report?.tests?.verdict).toMatch(/^foundation red, test suite red: fix the foundation first — (\d+) of \1 failing tests follow from it/)
    expectClean(result, db)
  })
})
