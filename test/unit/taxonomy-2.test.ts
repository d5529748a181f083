// The default rules against JUnit reports that real pytest runs of the example app's suite wrote
// (examples/tenant-app/tests, Celery 5.7, real workers, a real PostgreSQL; identifying values
// replaced as in the other example-app fixtures): the categories of issue 15, and pytest's two
// <testcase> elements for a test whose call failed and whose teardown errored.
//   taxonomy-2.xml: the new example files on a healthy database, EXPECTED_WORKER_ROLE=app_worker
//   dlq-no-insert.xml, permissive-policy.xml: test_foundation.py on those SQL variants
//   plain-logs.xml: test_harness_log_capture.py with WORKER_APP=app.variants.plain_logs
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { GATE_IDS, type GateStatus } from '../../src/constants.js'
import type { GateResult } from '../../src/report/model.js'
import { analyzeTests } from '../../src/taxonomy/analyze.js'
import { DEFAULT_RULES } from '../../src/taxonomy/default-rules.js'
import type { TaxonomyEntry, TestsReport } from '../../src/taxonomy/model.js'

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'junit', 'example-app')

function gates(statuses: Partial<Record<string, GateStatus>> = {}): GateResult[] {
  return GATE_IDS.filter((id) => id !== 'ci').map((id) => ({
    id,
    title: id,
    description: id,
    status: statuses[id] ?? 'pass',
    evidence: `${id} evidence`,
    foundation: true,
    durationMs: 0
  }))
}

function classify(file: string, statuses: Partial<Record<string, GateStatus>> = {}): Promise<TestsReport> {
  return analyzeTests({ patterns: [file], cwd: DIR, rules: DEFAULT_RULES, gates: gates(statuses), values: {} })
}

const brief = (e: TaxonomyEntry): string => `${e.name} ${e.phase} ${e.category} ${e.rule}`

describe('the new example cases on a healthy database (every gate passes)', () => {
  it('puts each failing <testcase> in the category of its real cause', async () => {
    const report = await classify('taxonomy-2.xml')
    expect(report.taxonomy.map(brief)).toEqual([
      'test_worker_imports_a_mixed_tenant_batch call foundation:rls-role rls-refused',
      'test_app_role_reads_with_row_security_off call foundation:rls-role rls-refused',
      'test_seed_invoices_with_row_security_disabled call foundation:rls-role rls-owner-only',
      'test_worker_sessions_use_the_expected_role call foundation:rls-role session-role-assertion',
      'test_worker_banner_reaches_capsys call harness:log-capture capsys-capfd-worker-output',
      'test_worker_task_log_reaches_capfd call harness:log-capture capsys-capfd-worker-output',
      'test_store_invoices_compared_without_running call harness:async-bridge coroutine-not-run',
      'test_store_invoices_indexed_without_running call harness:async-bridge coroutine-not-run',
      'test_store_invoices_result_without_running call harness:async-bridge coroutine-not-run',
      'test_import_batch_totals_via_real_worker call harness:async-bridge coroutine-not-run',
      'test_import_and_audit call harness:async-bridge coroutine-not-run',
      'test_import_and_audit teardown foundation:rls-role rls-refused',
      // A timeout alone names no cause while the queues gate passes: no guess.
      'test_report_is_built_by_a_worker call unknown no-rule-matched',
      'test_report_task_is_registered call foundation:tasks task-not-registered'
    ])
  })

  it('counts both <testcase> elements of a test whose call failed and whose teardown errored', async () => {
    const report = await classify('taxonomy-2.xml')
    const both = report.taxonomy.filter((e) => e.name === 'test_import_and_audit')
    expect(both.map((e) => [e.outcome, e.phase, e.category])).toEqual([
      ['failure', 'call', 'harness:async-bridge'],
      ['error', 'teardown', 'foundation:rls-role']
    ])
    expect(both[0]?.evidence).toBe("TypeError: 'coroutine' object is not iterable")
    expect(both[1]?.evidence).toMatch(/^failed on teardown with .*new row violates row-level security policy for table "invoices"/)
    // pytest wrote 17 elements: 14 failing or erroring ones, 3 passing companions.
    expect(report.totals).toMatchObject({ cases: 17, passed: 3, failed: 13, errored: 1 })
    expect(report.failed).toBe(14)
    expect(report.byCategory).toEqual({ 'foundation:rls-role': 5, 'foundation:tasks': 1, 'harness:log-capture': 2, 'harness:async-bridge': 5, unknown: 1 })
  })

  it('quotes the refusal, not the SQLSTATE class it shares with a missing GRANT', async () => {
    const report = await classify('taxonomy-2.xml')
    for (const e of report.taxonomy.filter((x) => x.rule === 'rls-refused')) {
      expect(e.evidence).toMatch(/row-level security policy for table "invoices"/)
      expect(e.category).not.toBe('foundation:db-access')
    }
  })
})

describe('the gates added since the seed as a foundation cause', () => {
  it('queues: the timed-out result is the unconsumed queue when the queues gate failed', async () => {
    const entry = (await classify('taxonomy-2.xml', { queues: 'fail' })).taxonomy.find((e) => e.name === 'test_report_is_built_by_a_worker')
    expect(entry).toMatchObject({
      category: 'foundation:queues',
      rule: 'queue-not-consumed',
      evidence: 'celery.exceptions.TimeoutError: The operation timed out.'
    })
  })

  it('dlq: the missing dead-letter row follows from the dlq gate, and is unknown without it', async () => {
    const red = await classify('dlq-no-insert.xml', { dlq: 'fail' })
    expect(red.taxonomy.map(brief)).toEqual(['test_failed_task_lands_in_dead_letter_table call foundation:dlq dead-letter-missing'])
    expect(red.taxonomy[0]?.evidence).toMatch(/^AssertionError: no worker_failed_jobs row for failed task /)
    expect((await classify('dlq-no-insert.xml')).taxonomy.map((e) => e.category)).toEqual(['unknown'])
  })

  it('tenant-isolation: with a permissive policy the tenant tests follow from the tenant-isolation gate', async () => {
    const report = await classify('permissive-policy.xml', { 'tenant-isolation': 'fail' })
    expect(report.taxonomy.map(brief)).toEqual([
      'test_no_invoices_visible_without_tenant call foundation:tenant-isolation tenant-isolation-broken',
      'test_tenant_sees_only_its_own_invoices call foundation:tenant-isolation tenant-isolation-broken'
    ])
    expect(report.verdict).toBe('foundation red, test suite red: fix the foundation first — 2 of 2 failing tests follow from it')
  })

  it("logs: a test parsing the worker's log lines follows from the logs gate; caplog tests stay the harness", async () => {
    const report = await classify('plain-logs.xml', { logs: 'warn' })
    expect(report.taxonomy.map(brief)).toEqual([
      'test_worker_logs_are_structured call harness:log-capture caplog-assertion',
      'test_real_worker_task_logs_reach_caplog call harness:log-capture caplog-assertion',
      'test_real_worker_task_logs_in_worker_stderr call foundation:logs worker-logs-not-structured'
    ])
    expect((await classify('plain-logs.xml')).taxonomy.at(-1)?.category).toBe('unknown')
  })

  it('rls-role stays the cause when both rls-role and tenant-isolation failed', async () => {
    const report = await classify('permissive-policy.xml', { 'rls-role': 'fail', 'tenant-isolation': 'fail' })
    expect(new Set(report.taxonomy.map((e) => e.category))).toEqual(new Set(['foundation:rls-role']))
  })
})
