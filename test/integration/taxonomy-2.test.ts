// Failure taxonomy 2 (issue 15), end to end and for real: the example app's new pytest cases run
// (pytest in the app's virtual environment, real workers, a real PostgreSQL), and the bundled
// action — booting its own worker on the same database — classifies the JUnit report they wrote:
// whichever gates run, one entry per failing <testcase>, the new categories, and the gates added
// since the seed as a test's foundation cause.
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TaxonomyEntry } from '../../src/taxonomy/model.js'
import { gate, leakedSecrets, processesOfRun, type ActionResult } from '../support/action.js'
import { exampleDatabase, runExamplePytest, runOnExample, type ExampleDatabase } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'
import { workspaceTempDir } from '../support/workspace.js'

let pg: TestPostgres
// Inside the workspace: the action reads reports only from there.
const reports = workspaceTempDir('cfg-junit2-')

beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

const NEW_FILES = [
  'tests/test_foundation_rls_refusal.py',
  'tests/test_foundation_session_role.py',
  'tests/test_foundation_queues_and_tasks.py',
  'tests/test_harness_output_capture.py',
  'tests/test_harness_coroutines.py',
  'tests/test_double_entry.py'
]

/** Runs some of the example suite's files the way a user's test step would; resolves to the report. */
function pytest(databaseUrl: string, name: string, files: string[], env: Record<string, string> = {}): Promise<string> {
  return runExamplePytest(databaseUrl, path.join(reports, `${name}.xml`), files, env)
}

function action(db: ExampleDatabase, junit: string, extra: Record<string, string> = {}): Promise<ActionResult> {
  return runOnExample('5.7', db, { junit, ...extra })
}

const taxonomy = (result: ActionResult): TaxonomyEntry[] => JSON.parse(result.outputs.taxonomy ?? '[]') as TaxonomyEntry[]
const categoryOf = (result: ActionResult, name: string): string | undefined => taxonomy(result).find((e) => e.name === name)?.category
const secrets = (db: ExampleDatabase): string[] => [db.password, encodeURIComponent(db.password)]

function expectClean(result: ActionResult, db: ExampleDatabase): void {
  expect(leakedSecrets(result, secrets(db))).toEqual([])
  expect(processesOfRun(result.report?.runId ?? '?')).toEqual([])
}

/** What the new cases are, on a healthy database whose worker is expected to run as app_worker. */
const EXPECTED: Array<[string, string, string]> = [
  ['test_worker_imports_a_mixed_tenant_batch', 'call', 'foundation:rls-role'],
  ['test_app_role_reads_with_row_security_off', 'call', 'foundation:rls-role'],
  ['test_seed_invoices_with_row_security_disabled', 'call', 'foundation:rls-role'],
  ['test_worker_sessions_use_the_expected_role', 'call', 'foundation:rls-role'],
  ['test_report_is_built_by_a_worker', 'call', 'unknown'],
  ['test_report_task_is_registered', 'call', 'foundation:tasks'],
  ['test_worker_banner_reaches_capsys', 'call', 'harness:log-capture'],
  ['test_worker_task_log_reaches_capfd', 'call', 'harness:log-capture'],
  ['test_store_invoices_compared_without_running', 'call', 'harness:async-bridge'],
  ['test_store_invoices_indexed_without_running', 'call', 'harness:async-bridge'],
  ['test_store_invoices_result_without_running', 'call', 'harness:async-bridge'],
  ['test_import_batch_totals_via_real_worker', 'call', 'harness:async-bridge'],
  ['test_import_and_audit', 'call', 'harness:async-bridge'],
  ['test_import_and_audit', 'teardown', 'foundation:rls-role']
]
const sorted = (rows: Array<[string, string, string]>) => [...rows].sort((a, b) => a.join(' ').localeCompare(b.join(' ')))

describe('the new example cases on a healthy database', () => {
  let db: ExampleDatabase
  let junit: string
  beforeAll(async () => {
    db = await exampleDatabase(pg)
    junit = await pytest(db.url, 'new-cases', NEW_FILES, { EXPECTED_WORKER_ROLE: 'app_worker' })
  })

  it('without the ci gate, junit is still read and fail-on: any fails the step on the red suite', async () => {
    const result = await action(db, junit, { gates: 'import broker-config runtime', 'fail-on': 'any' })
    checkStep(
      'Faults',
      'junit + fail-on: any with `gates` not listing ci: 14 failing test cases',
      result,
      { code: 1, gates: { runtime: 'pass' }, timeoutS: 30, secrets: secrets(db) },
      'the tests are classified anyway and the step fails (tests-failed 14)'
    )
    expect(result.code, result.stdout + result.stderr).toBe(1)
    expect(JSON.parse(result.outputs.gates ?? '[]').map((g: { id: string }) => g.id)).toEqual(['import', 'broker-config', 'runtime'])
    expect(result.outputs['tests-failed']).toBe('14')
    expect(result.stdout).toMatch(/::error::14 tests failed: foundation green, test suite red/)
    expect(sorted(taxonomy(result).map((e) => [e.name, e.phase, e.category]))).toEqual(sorted(EXPECTED))
    expect(result.report?.tests?.taxonomy).toEqual(taxonomy(result))
    expect(result.summary).toContain('### Failure taxonomy')
    expect(result.summary).toMatch(/Foundation green, test suite red: remediate the tests/i)
    expectClean(result, db)
  })

  it('with every gate, the same classification; the double entry is two rows, each with its own cause', async () => {
    const result = await action(db, junit)
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(gate(result, 'rls-role').status).toBe('pass')
    expect(gate(result, 'ci').status).toBe('warn')
    expect(result.outputs['tests-failed']).toBe('14')
    const both = taxonomy(result).filter((e) => e.name === 'test_import_and_audit')
    expect(both.map((e) => [e.outcome, e.phase, e.category, e.rule])).toEqual([
      ['failure', 'call', 'harness:async-bridge', 'coroutine-not-run'],
      ['error', 'teardown', 'foundation:rls-role', 'rls-refused']
    ])
    expect(result.report?.tests?.totals).toMatchObject({ cases: 17, failed: 13, errored: 1 })
    expectClean(result, db)
  })

  it('with the app whose route sends reports to an unconsumed queue, the timed-out test is foundation:queues', async () => {
    const result = await action(db, junit, { app: 'app.variants.unrouted_queue', gates: 'import broker-config runtime queues' })
    expect(gate(result, 'queues').status).toBe('fail')
    expect(result.code).toBe(1)
    expect(categoryOf(result, 'test_report_is_built_by_a_worker')).toBe('foundation:queues')
    expect(categoryOf(result, 'test_report_task_is_registered')).toBe('foundation:tasks')
    expectClean(result, db)
  })
})

describe("the gates added since the seed as the cause of the seed suite's failures", () => {
  it('dlq: the worker cannot write its dead-letter row, and the dead-letter test follows from the dlq gate', async () => {
    const db = await exampleDatabase(pg, { variants: ['dlq-no-insert'] })
    const junit = await pytest(db.url, 'dlq-no-insert', ['tests/test_foundation.py'])
    const result = await action(db, junit, { 'dlq-table': 'worker_failed_jobs', 'dlq-probe-task': 'app.tasks.housekeeping.fail' })
    expect(result.code).toBe(1)
    expect(gate(result, 'dlq').status).toBe('fail')
    expect(taxonomy(result).map((e) => [e.name, e.category])).toEqual([['test_failed_task_lands_in_dead_letter_table', 'foundation:dlq']])
    expectClean(result, db)
  })

  it("logs: with the plain-text app, the test parsing the worker's log lines follows from the logs gate", async () => {
    const db = await exampleDatabase(pg)
    const junit = await pytest(db.url, 'plain-logs', ['tests/test_harness_log_capture.py'], { WORKER_APP: 'app.variants.plain_logs' })
    const result = await action(db, junit, { app: 'app.variants.plain_logs', gates: 'import broker-config runtime logs' })
    expect(gate(result, 'logs').status).toBe('warn')
    expect(categoryOf(result, 'test_real_worker_task_logs_in_worker_stderr')).toBe('foundation:logs')
    // The caplog tests look in the wrong place whatever the worker writes: still the harness.
    expect(categoryOf(result, 'test_worker_logs_are_structured')).toBe('harness:log-capture')
    expect(categoryOf(result, 'test_real_worker_task_logs_reach_caplog')).toBe('harness:log-capture')
    expectClean(result, db)
  })

  it('tenant-isolation: a permissive policy shows every tenant, and the tenant tests follow from it', async () => {
    const db = await exampleDatabase(pg, { variants: ['permissive-policy'] })
    const junit = await pytest(db.url, 'permissive-policy', ['tests/test_foundation.py'])
    const result = await action(db, junit)
    expect(result.code).toBe(1)
    expect(gate(result, 'tenant-isolation').status).toBe('fail')
    // The role's attributes are right (rls-role passes): only the policy lets every row through.
    expect(gate(result, 'rls-role').status).not.toBe('fail')
    expect(taxonomy(result).map((e) => [e.name, e.category])).toEqual([
      ['test_no_invoices_visible_without_tenant', 'foundation:tenant-isolation'],
      ['test_tenant_sees_only_its_own_invoices', 'foundation:tenant-isolation']
    ])
    expectClean(result, db)
  })
})
