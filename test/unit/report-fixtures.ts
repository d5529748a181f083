// Run reports for the renderer tests: the realistic fixtures in test/fixtures/reports and a
// builder for synthetic ones that stress a single thing.
import { readFileSync } from 'node:fs'
import { GATE_IDS, GATE_STATUSES } from '../../src/constants.js'
import type { GateStatus } from '../../src/constants.js'
import type { ReportCounts, ReportFile, ReportStatus } from '../../src/junit/model.js'
import type { GateResult, RunReport } from '../../src/report/model.js'
import type { Category, TaxonomyEntry, TestsReport } from '../../src/taxonomy/model.js'

export const REPORT_FIXTURES = [
  'all-pass',
  'runtime-wrong-password',
  'import-error',
  'rls-role-bypassrls',
  'broker-config-redis',
  'cancelled',
  'input-error',
  'tests-suite-red',
  'tests-foundation-red',
  'tests-report-findings'
] as const
export type ReportFixture = (typeof REPORT_FIXTURES)[number]

const FIXTURES_DIR = new URL('../fixtures/reports/', import.meta.url)

export function loadReportFixture(name: ReportFixture): RunReport {
  const report = JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES_DIR), 'utf8')) as RunReport
  assertPlausibleReport(name, report)
  return report
}

// JSON is not type-checked, so a fixture that drifted from the model would test nothing.
function assertPlausibleReport(name: string, report: RunReport): void {
  const ids = report.gates.map((gate) => gate.id).join(',')
  if (ids !== GATE_IDS.join(',')) throw new Error(`${name}: gates are not the ${GATE_IDS.length} of GATE_IDS in matrix order: ${ids}`)
  for (const gate of report.gates) {
    if (!(GATE_STATUSES as readonly string[]).includes(gate.status)) {
      throw new Error(`${name}: gate ${gate.id} has unknown status ${gate.status}`)
    }
  }
  if (report.schemaVersion !== 1 || !['pass', 'fail'].includes(report.verdict)) {
    throw new Error(`${name}: not a schema 1 report with a verdict`)
  }
}

/**
 * A copy of the all-pass fixture with some fields replaced; `gateChanges` then changes gates by
 * id (those of `gates` when given, else the fixture's).
 */
export function reportWith(changes: Partial<RunReport> & { gateChanges?: Record<string, Partial<GateResult>> }): RunReport {
  const { gateChanges = {}, ...fields } = changes
  const base = structuredClone(loadReportFixture('all-pass'))
  const gates = (fields.gates ?? base.gates).map((gate) => ({ ...gate, ...gateChanges[gate.id] }))
  return { ...base, ...fields, gates }
}

/** The all-pass fixture's gates with every one passing, whatever the capture made of them. */
export function passingGates(): GateResult[] {
  return loadReportFixture('all-pass').gates.map((gate) => ({ ...gate, status: 'pass' as const }))
}

/** Ids of the report's foundation gates (or, with `foundation: false`, the others), in matrix order, of any status or of one. */
export function gateIdsOf(report: RunReport, { foundation = true, status }: { foundation?: boolean; status?: GateStatus } = {}): string[] {
  return report.gates.filter((gate) => gate.foundation === foundation && (status === undefined || gate.status === status)).map((gate) => gate.id)
}

export function manyGates(count: number, evidence: string): GateResult[] {
  return Array.from({ length: count }, (_unused, index) => ({
    id: `gate-${index}`,
    title: `Gate ${index}`,
    description: 'A synthetic gate',
    status: index % 7 === 0 ? 'fail' : 'pass',
    evidence,
    details: `details of gate ${index}`,
    foundation: true,
    durationMs: 1
  }))
}

/** A failing test of `category`, named after `index`; the rest as pytest would report it. */
export function failingTest(index: number, category: Category, changes: Partial<TaxonomyEntry> = {}): TaxonomyEntry {
  return {
    report: 'reports/junit.xml',
    classname: 'tests.test_synthetic',
    name: `test_${index}`,
    outcome: 'failure',
    phase: 'call',
    category,
    rule: `rule-for-${category.replace(/^\w+:/, '')}`,
    evidence: `AssertionError: assert ${index} == 0`,
    remediation: `What to do about ${category}.`,
    ...changes
  }
}

/** A strict XPASS as pytest reports it: a failure no foundation or harness rule explains. */
export function strictXpass(index: number): TaxonomyEntry {
  return failingTest(index, 'unknown', {
    rule: 'xpass-strict',
    evidence: '[XPASS(strict)] fixed upstream',
    remediation: 'The test passed although it is marked xfail(strict=True): remove the marker if the bug it tracked is fixed.'
  })
}

/** One JUnit file of a report's `files`: read by default, with these counts or none. */
export function reportFile(path: string, status: ReportStatus = 'ok', changes: Partial<ReportFile> = {}): ReportFile {
  const counts: ReportCounts = { cases: 0, passed: 0, failed: 0, errored: 0, skipped: 0, xfailed: 0, xpassed: 0 }
  return { pattern: path, path, status, bytes: 1_024, counts, ...(status === 'ok' ? { tool: 'pytest' as const } : {}), ...changes }
}

/** The tests-suite-red fixture with these failing tests instead (counts kept consistent). */
export function reportWithTests(taxonomy: TaxonomyEntry[], changes: Partial<TestsReport> = {}): RunReport {
  const base = loadReportFixture('tests-suite-red')
  const byCategory: TestsReport['byCategory'] = {}
  for (const entry of taxonomy) byCategory[entry.category] = (byCategory[entry.category] ?? 0) + 1
  const tests: TestsReport = { ...base.tests!, taxonomy, failed: taxonomy.length, byCategory, ...changes }
  return { ...base, tests }
}
