// Run reports for the renderer tests: the realistic fixtures in test/fixtures/reports and a
// builder for synthetic ones that stress a single thing.
import { readFileSync } from 'node:fs'
import { GATE_IDS, GATE_STATUSES } from '../../src/constants.js'
import type { GateResult, RunReport } from '../../src/report/model.js'

export const REPORT_FIXTURES = [
  'all-pass',
  'runtime-wrong-password',
  'import-error',
  'rls-role-bypassrls',
  'broker-config-redis',
  'cancelled',
  'input-error'
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
  if (ids !== GATE_IDS.join(',')) throw new Error(`${name}: gates are not the six in matrix order: ${ids}`)
  for (const gate of report.gates) {
    if (!(GATE_STATUSES as readonly string[]).includes(gate.status)) {
      throw new Error(`${name}: gate ${gate.id} has unknown status ${gate.status}`)
    }
  }
  if (report.schemaVersion !== 1 || !['pass', 'fail'].includes(report.verdict)) {
    throw new Error(`${name}: not a schema 1 report with a verdict`)
  }
}

/** A copy of the all-pass fixture with some gates or fields replaced. */
export function reportWith(changes: Partial<RunReport> & { gateChanges?: Record<string, Partial<GateResult>> }): RunReport {
  const { gateChanges = {}, ...fields } = changes
  const base = structuredClone(loadReportFixture('all-pass'))
  const gates = base.gates.map((gate) => ({ ...gate, ...gateChanges[gate.id] }))
  return { ...base, gates, ...fields }
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
