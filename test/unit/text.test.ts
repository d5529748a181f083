import { describe, expect, it } from 'vitest'
import { GATE_IDS } from '../../src/constants.js'
import type { GateStatus } from '../../src/constants.js'
import { renderMatrixText, TEXT_WIDTH } from '../../src/report/text.js'
import { CATEGORIES } from '../../src/taxonomy/model.js'
import type { TestsReport } from '../../src/taxonomy/model.js'
import { failingTest, gateIdsOf, loadReportFixture, REPORT_FIXTURES, reportFile, reportWith, reportWithTests, strictXpass } from './report-fixtures.js'

/** Where each column starts, found from the header line. */
function columnStarts(header: string): number[] {
  return ['Gate', 'Status', 'Evidence'].map((title) => header.indexOf(title))
}

/** The status and evidence cells of gate `id`'s line, found by its id and cut at the header's column starts. */
function gateCells(text: string, id: string): { status: string; evidence: string } {
  const [header = '', ...lines] = text.split('\n')
  const [, statusAt = 0, evidenceAt = 0] = columnStarts(header)
  const line = lines.find((candidate) => candidate.split(' ')[0] === id) ?? ''
  return { status: line.slice(statusAt, evidenceAt).trimEnd(), evidence: line.slice(evidenceAt) }
}

/** The status column's word for each status. */
const STATUS_LABELS: Readonly<Record<GateStatus, string>> = { pass: 'PASS', fail: 'FAIL', warn: 'MIXED', skip: 'SKIPPED' }

/** How many foundation gates a run has: the real runs' count, from a fixture. */
const FOUNDATION_GATES = gateIdsOf(loadReportFixture('all-pass')).length

/** A line as the text keeps it: whole when it fits `TEXT_WIDTH`, else cut with `…` at the width. */
function clipped(text: string): string {
  const characters = [...text]
  return characters.length <= TEXT_WIDTH
    ? text
    : `${characters
        .slice(0, TEXT_WIDTH - 1)
        .join('')
        .trimEnd()}…`
}

/** "category count, …" for the categories with failing tests, in taxonomy order. */
function countsByCategory({ byCategory }: TestsReport): string {
  return CATEGORIES.flatMap((category) => {
    const count = byCategory[category] ?? 0
    return count > 0 ? [`${category} ${count}`] : []
  }).join(', ')
}

/** The gate verdict line alone: the report rendered without its tests. */
function gateVerdictOf(name: 'tests-suite-red' | 'tests-foundation-red' | 'tests-report-findings'): string {
  return (
    renderMatrixText({ ...loadReportFixture(name), tests: undefined })
      .split('\n')
      .at(-1) ?? ''
  )
}

describe('renderMatrixText', () => {
  it('prints a header, one line per gate in order, then the verdict', () => {
    // The real run with a Redis broker: `broker-config` failed, the gates after it did not run.
    const report = loadReportFixture('broker-config-redis')
    const lines = renderMatrixText(report).split('\n')
    expect(lines).toHaveLength(1 + GATE_IDS.length + 1)
    expect(lines[0]).toMatch(/^Gate +Status +Evidence$/)
    const gateLines = lines.slice(1, 1 + GATE_IDS.length)
    expect(gateLines.map((line) => line.split(' ')[0])).toEqual([...GATE_IDS])
    expect(gateLines.map((line) => line.split(/ {2,}/)[1])).toEqual(report.gates.map((gate) => STATUS_LABELS[gate.status]))
    expect(new Set(gateLines.map((line) => line.split(/ {2,}/)[1]))).toEqual(new Set(['PASS', 'FAIL', 'SKIPPED']))
    const skipped = gateIdsOf(report, { status: 'skip' })
    expect(gateIdsOf(report, { status: 'fail' })).toEqual(['broker-config'])
    expect(skipped).toEqual(expect.arrayContaining(['runtime', 'db-access', 'rls-role']))
    expect(gateIdsOf(report, { foundation: false, status: 'pass' })).toEqual(gateIdsOf(report, { foundation: false }))
    expect(lines[1 + GATE_IDS.length]).toBe(
      `Verdict: FAIL — 1 of ${FOUNDATION_GATES} foundation gates failed: broker-config; ${skipped.length} skipped: ${skipped.join(', ')}.`
    )
  })

  it('aligns the columns on every line', () => {
    const [header = '', ...rows] = renderMatrixText(loadReportFixture('all-pass'))
      .split('\n')
      .slice(0, 1 + GATE_IDS.length)
    const [, statusAt = 0, evidenceAt = 0] = columnStarts(header)
    expect(rows).toHaveLength(GATE_IDS.length)
    // The gate column is as wide as the longest id, then the two-space gap.
    expect(statusAt).toBe(Math.max(...GATE_IDS.map((id) => id.length)) + 2)
    for (const row of rows) {
      expect(row[statusAt - 1]).toBe(' ')
      expect(row[statusAt]).not.toBe(' ')
      expect(row[evidenceAt - 1]).toBe(' ')
      expect(row[evidenceAt]).not.toBe(' ')
    }
  })

  it('shows only the first evidence line and marks that more exists', () => {
    const report = loadReportFixture('all-pass')
    const text = renderMatrixText(report)
    const [first, ...more] = report.gates.find((gate) => gate.id === 'runtime')?.evidence.split('\n') ?? []
    expect(more.length).toBeGreaterThan(0)
    expect(gateCells(text, 'runtime')).toEqual({ status: 'PASS', evidence: `${first} …` })
    // A one-line evidence gets no mark.
    const ci = report.gates.find((gate) => gate.id === 'ci')?.evidence ?? ''
    expect(ci).not.toContain('\n')
    expect(gateCells(text, 'ci')).toEqual({ status: 'PASS', evidence: ci })
    expect(gateCells(text, 'ci').evidence).toMatch(/^fail-on: foundation: .*\(on pull_request\)$/)
  })

  it('marks a first line that fills the width like any cut', () => {
    const report = reportWith({ gateChanges: { runtime: { evidence: `${'y'.repeat(TEXT_WIDTH - 1)}\nmore` } } })
    expect(gateCells(renderMatrixText(report), 'runtime').evidence).toBe(`${'y'.repeat(TEXT_WIDTH - 1)}…`)
  })

  it('bounds evidence to the text width', () => {
    const report = reportWith({ gateChanges: { runtime: { evidence: 'x'.repeat(5_000) } } })
    const { evidence } = gateCells(renderMatrixText(report), 'runtime')
    expect([...evidence]).toHaveLength(TEXT_WIDTH)
    expect(evidence.endsWith('x…')).toBe(true)
  })

  it('counts an astral character as one column', () => {
    const report = reportWith({ gateChanges: { runtime: { evidence: '😀'.repeat(TEXT_WIDTH + 5) } } })
    const { evidence } = gateCells(renderMatrixText(report), 'runtime')
    expect(evidence.startsWith('😀')).toBe(true)
    expect([...evidence]).toHaveLength(TEXT_WIDTH)
  })

  it('strips ANSI escapes and control characters and flattens tabs', () => {
    const report = reportWith({ gateChanges: { runtime: { evidence: '\u001b[31mred\u001b[0m\tand\u0007 bell' } } })
    expect(gateCells(renderMatrixText(report), 'runtime')).toEqual({ status: 'PASS', evidence: 'red and bell' })
  })

  it('uses no markdown, emoji or colour, and leaves no trailing spaces', () => {
    for (const name of REPORT_FIXTURES) {
      const text = renderMatrixText(loadReportFixture(name))
      expect(text).not.toMatch(/^\||<br>|&\w+;|\*\*Verdict|\p{Extended_Pictographic}|\u001b/mu)
      expect(text).not.toMatch(/ $/m)
    }
  })

  it('says why an interrupted run stopped', () => {
    const report = loadReportFixture('cancelled')
    const passed = gateIdsOf(report, { status: 'pass' })
    const skipped = gateIdsOf(report, { status: 'skip' })
    expect(passed.length).toBeGreaterThan(0)
    expect(passed.length + skipped.length).toBe(FOUNDATION_GATES)
    expect(gateIdsOf(report, { foundation: false, status: 'skip' })).toEqual(['ci'])
    const cancelled = renderMatrixText(report).split('\n')
    expect(cancelled.at(-2)).toBe(
      `Verdict: FAIL — ${passed.length} of ${FOUNDATION_GATES} foundation gates passed; ${skipped.length} skipped: ${skipped.join(', ')}; outside the foundation, 1 skipped: ci.`
    )
    expect(cancelled.at(-1)).toBe('Interrupted: cancelled by the runner — cancelled by SIGINT')
    expect(renderMatrixText(loadReportFixture('input-error')).split('\n').at(-1)).toBe(
      'Interrupted: input error — Input "timeout": expected a number of seconds from 1 to 3600, got "abc"'
    )
  })

  it('adds the tests verdict and the failing tests by category after the gate verdict', () => {
    // The real foundation-red run: every report read, so no line about unusable reports.
    const report = loadReportFixture('tests-foundation-red')
    const tests = report.tests!
    expect(tests.unmatched).toEqual([])
    expect(tests.files.every((file) => file.status === 'ok')).toBe(true)
    expect(tests.verdict).toMatch(/^foundation red, test suite red: fix the foundation first/)
    const gateVerdict = gateVerdictOf('tests-foundation-red')
    expect(gateVerdict).toMatch(/^Verdict: FAIL — /)
    const lines = renderMatrixText(report).split('\n')
    expect(lines).toHaveLength(1 + GATE_IDS.length + 3)
    expect(lines.slice(-3)).toEqual([gateVerdict, `Tests: ${clipped(tests.verdict)}`, `Failing tests by category: ${clipped(countsByCategory(tests))}`])
    // The foundation's categories lead.
    expect(lines.at(-1)).toMatch(/^Failing tests by category: foundation:/)
    // A foundation-red run with a failure no rule explains: `unknown` comes last.
    const withUnknown = reportWithTests([...tests.taxonomy, strictXpass(0)], { verdict: tests.verdict })
    expect(renderMatrixText(withUnknown).split('\n').at(-1)).toBe(`Failing tests by category: ${clipped(countsByCategory(withUnknown.tests!))}`)
    const short = reportWithTests([failingTest(0, 'foundation:runtime'), strictXpass(1), failingTest(2, 'foundation:runtime')])
    expect(renderMatrixText(short).split('\n').at(-1)).toBe('Failing tests by category: foundation:runtime 2, unknown 1')
  })

  it('lists the categories in taxonomy order, without empty ones', () => {
    const report = reportWithTests([failingTest(0, 'unknown')], {
      byCategory: { unknown: 2, 'harness:eager-mode': 0, 'harness:readiness': 3, 'foundation:db-access': 1 }
    })
    expect(renderMatrixText(report).split('\n').at(-1)).toBe('Failing tests by category: foundation:db-access 1, harness:readiness 3, unknown 2')
  })

  it('bounds the tests lines to the text width', () => {
    // The real suite-red run, whatever its lengths.
    const tests = loadReportFixture('tests-suite-red').tests!
    const lines = renderMatrixText(loadReportFixture('tests-suite-red')).split('\n')
    expect(lines.at(-2)).toBe(`Tests: ${clipped(tests.verdict)}`)
    expect(lines.at(-1)).toBe(`Failing tests by category: ${clipped(countsByCategory(tests))}`)
    for (const line of lines.slice(-2)) expect([...line.slice(line.indexOf(': ') + 2)].length).toBeLessThanOrEqual(TEXT_WIDTH)
    // A verdict and a list of categories longer than the width are cut to it, marked with `…`.
    const verdict = `foundation green, test suite red: remediate the tests (${'x'.repeat(2 * TEXT_WIDTH)})`
    const byCategory = Object.fromEntries(CATEGORIES.map((category) => [category, 1_000]))
    const long = renderMatrixText(reportWithTests([], { verdict, byCategory })).split('\n')
    const verdictLine = long.at(-2) ?? ''
    expect(verdictLine).toMatch(/^Tests: foundation green, test suite red: remediate the tests \(x+…$/)
    expect([...verdictLine.slice('Tests: '.length)]).toHaveLength(TEXT_WIDTH)
    const categoriesLine = long.at(-1) ?? ''
    expect(categoriesLine).toMatch(/^Failing tests by category: foundation:import 1000, foundation:broker-config 1000, .*…$/)
    expect([...categoriesLine.slice('Failing tests by category: '.length)]).toHaveLength(TEXT_WIDTH)
    const hostile = reportWithTests([], { byCategory: {}, verdict: '\u001b[31mred\u001b[0m\tverdict\nsecond line' })
    expect(renderMatrixText(hostile).split('\n').at(-1)).toBe('Tests: red verdict …')
  })

  it('says which test reports could not be read', () => {
    // The real run whose glob matched nothing and whose other file is not JUnit: no failing test.
    const tests = loadReportFixture('tests-report-findings').tests!
    const unmatched = tests.unmatched.length
    const unusable = tests.files.filter((file) => file.status !== 'ok').length
    expect(unmatched).toBeGreaterThan(0)
    expect(unusable).toBeGreaterThan(0)
    expect(tests.taxonomy).toEqual([])
    const lines = renderMatrixText(loadReportFixture('tests-report-findings')).split('\n')
    expect(lines).toHaveLength(1 + GATE_IDS.length + 3)
    expect(lines.slice(-3)).toEqual([
      gateVerdictOf('tests-report-findings'),
      `Tests: ${clipped(tests.verdict)}`,
      `Test reports: ${unmatched} ${unmatched === 1 ? 'glob' : 'globs'} matched no file; ${unusable} ${unusable === 1 ? 'file' : 'files'} could not be used`
    ])
    // With a failing test as well, the findings come after the categories; counts are plural.
    const report = reportWithTests([strictXpass(0)], {
      verdict: 'foundation green, test suite red: remediate the tests (1 failing: unknown 1)',
      unmatched: ['reports/e2e/*.xml', 'reports/load/*.xml'],
      files: [
        reportFile('reports/junit.xml'),
        reportFile('reports/integration/junit-worker.xml', 'malformed', { detail: 'line 12, column 3: unexpected end of input' }),
        reportFile('reports/empty.xml', 'empty')
      ]
    })
    expect(renderMatrixText(report).split('\n').slice(-3)).toEqual([
      'Tests: foundation green, test suite red: remediate the tests (1 failing: unknown 1)',
      'Failing tests by category: unknown 1',
      'Test reports: 2 globs matched no file; 2 files could not be used'
    ])
    const single = reportWithTests([], { unmatched: ['reports/e2e/*.xml'], files: [reportFile('pytest.ini', 'not-junit')] })
    expect(renderMatrixText(single).split('\n').at(-1)).toBe('Test reports: 1 glob matched no file; 1 file could not be used')
  })

  it('prints just the verdict when there are no gates', () => {
    expect(renderMatrixText(reportWith({ gates: [], verdict: 'fail' }))).toBe('Verdict: FAIL — no foundation gates ran.')
  })
})
