// The default rules against the JUnit reports the example app's own test suite produced for real
// (examples/tenant-app/tests, run with pytest on a healthy database, as a SUPERUSER, without a
// privilege, and against a closed port; see its README). Each report is classified with the gate
// results the action reports for that database, and every failing test must land in the category
// its true cause belongs to.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { GateStatus } from '../../src/constants.js'
import type { GateResult } from '../../src/report/model.js'
import { analyzeTests } from '../../src/taxonomy/analyze.js'
import { DEFAULT_RULES } from '../../src/taxonomy/default-rules.js'
import type { Category, TestsReport } from '../../src/taxonomy/model.js'

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'junit', 'example-app')

function gates(statuses: Partial<Record<string, GateStatus>>): GateResult[] {
  const all = { import: 'pass', 'broker-config': 'pass', runtime: 'pass', 'db-access': 'pass', 'rls-role': 'pass', ...statuses }
  return Object.entries(all).map(([id, status]) => ({
    id,
    title: id,
    description: id,
    status: status as GateStatus,
    evidence: `${id} evidence`,
    foundation: true,
    durationMs: 0
  }))
}

async function classifyFixture(file: string, statuses: Partial<Record<string, GateStatus>> = {}): Promise<TestsReport> {
  return analyzeTests({ patterns: [file], cwd: DIR, rules: DEFAULT_RULES, gates: gates(statuses), values: { pong_ms: '1540', pong_after_ready_ms: '71' } })
}

/** test name (without the module) → category. */
function categories(report: TestsReport): Record<string, Category> {
  return Object.fromEntries(report.taxonomy.map((e) => [e.name, e.category]))
}

const HARNESS_FAILURES: Record<string, Category> = {
  test_webhook_import_writes_invoices: 'harness:async-bridge',
  test_eager_ping_result_is_stored_in_celery_taskmeta: 'harness:eager-mode',
  test_eager_ping_sends_task_received: 'harness:eager-mode',
  test_eager_result_stored_after_setting_task_store_eager_result: 'harness:eager-mode',
  test_worker_logs_are_structured: 'harness:log-capture',
  test_real_worker_task_logs_reach_caplog: 'harness:log-capture'
}
const READINESS = 'test_ping_task_runs_and_persists_result[readiness_timeout=0.3s]'

describe('the example app suite on a healthy database (every gate passes)', () => {
  it.each(['healthy.xml', 'healthy-celery52.xml'])('%s: every red test is the harness, none the foundation', async (file) => {
    const report = await classifyFixture(file)
    const expected: Record<string, Category> = { ...HARNESS_FAILURES, [READINESS]: 'harness:readiness' }
    // Celery 5.2 on Python 3.11: pytest's log capture cannot format billiard's traceback.
    if (file === 'healthy-celery52.xml') expected.test_eager_task_failure_reaches_the_test = 'harness:log-capture'
    expect(categories(report)).toEqual(expected)
    expect(report.verdict).toMatch(/^foundation green, test suite red: remediate the tests/)
    expect(report.components.at(-1)).toMatchObject({ component: 'Test harness', status: 'defective' })
  })

  it("quotes the action's own pong in the readiness remediation", async () => {
    const entry = (await classifyFixture('healthy.xml')).taxonomy.find((e) => e.name === READINESS)
    expect(entry).toMatchObject({ rule: 'readiness-race', outcome: 'error', phase: 'setup' })
    expect(entry?.evidence).toBe('failed on setup with "RuntimeError: Celery worker not ready: data-plane task execution failed"')
    expect(entry?.remediation).toContain('71 ms after the worker printed ready')
  })

  it('quotes the failing assertion for eager mode, and the caplog line for log capture', async () => {
    const byName = Object.fromEntries((await classifyFixture('healthy.xml')).taxonomy.map((e) => [e.name, e]))
    expect(byName.test_eager_ping_result_is_stored_in_celery_taskmeta?.evidence).toMatch(/^AssertionError: ping result .* must be persisted in celery_taskmeta/)
    expect(byName.test_worker_logs_are_structured?.evidence).toContain('caplog.records')
  })
})

describe('the suite against a broken foundation', () => {
  it('as a SUPERUSER (rls-role fails): the tenant tests are the foundation, the harness failures stay harness', async () => {
    const report = await classifyFixture('superuser.xml', { 'rls-role': 'fail' })
    expect(categories(report)).toEqual({
      ...HARNESS_FAILURES,
      [READINESS]: 'harness:readiness',
      test_app_role_is_not_superuser_and_cannot_bypass_rls: 'foundation:rls-role',
      test_no_invoices_visible_without_tenant: 'foundation:rls-role',
      test_tenant_sees_only_its_own_invoices: 'foundation:rls-role'
    })
    expect(report.verdict).toBe('foundation red, test suite red: fix the foundation first — 3 of 10 failing tests follow from it')
  })

  it('without UPDATE on kombu_message (runtime and db-access fail): the worker-dependent tests are the foundation', async () => {
    const report = await classifyFixture('missing-privilege.xml', { runtime: 'fail', 'db-access': 'fail', 'rls-role': 'warn' })
    const got = categories(report)
    for (const name of [
      'test_celery_ping_round_trip_via_real_worker',
      'test_ping_result_persisted_in_celery_taskmeta',
      'test_failed_task_lands_in_dead_letter_table',
      'test_no_invoices_visible_without_tenant',
      'test_tenant_sees_only_its_own_invoices',
      'test_app_role_can_lock_broker_messages',
      'test_webhook_import_via_real_worker',
      'test_real_worker_task_logs_reach_caplog',
      'test_real_worker_task_logs_in_worker_stderr'
    ])
      expect(got[name], name).toBe('foundation:db-access')
    // The impatient fixture gave up before the worker died; the runtime gate knows better.
    expect(got[READINESS]).toBe('foundation:runtime')
    // Eager tests never needed the worker: still the harness.
    expect(got.test_eager_ping_sends_task_received).toBe('harness:eager-mode')
    expect(got.test_worker_logs_are_structured).toBe('harness:log-capture')
  })

  it('against a closed port (runtime fails, SQL gates skipped): every failure is the refused database', async () => {
    const report = await classifyFixture('unreachable.xml', { runtime: 'fail', 'db-access': 'skip', 'rls-role': 'skip' })
    expect(new Set(Object.values(categories(report)))).toEqual(new Set(['foundation:runtime']))
    expect(report.failed).toBe(21)
    expect(report.verdict).toBe('foundation red, test suite red: fix the foundation first — 21 of 21 failing tests follow from it')
  })
})

describe('evidence is safe to show', () => {
  it('never quotes a password from the frame arguments pytest prints', async () => {
    const report = await classifyFixture('unreachable.xml', { runtime: 'fail' })
    for (const e of report.taxonomy) {
      expect(e.evidence).not.toMatch(/password\s*=\s*(?!\*\*\*)\S/)
      expect(e.evidence).not.toMatch(/:\/\/[^*/\s]+:[^@\s]+@/)
    }
  })
})
