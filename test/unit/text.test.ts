import { describe, expect, it } from 'vitest'
import { GATE_IDS } from '../../src/constants.js'
import { renderMatrixText, TEXT_WIDTH } from '../../src/report/text.js'
import { loadReportFixture, REPORT_FIXTURES, reportWith } from './report-fixtures.js'

/** Where each column starts, found from the header line. */
function columnStarts(header: string): number[] {
  return ['Gate', 'Status', 'Evidence'].map((title) => header.indexOf(title))
}

describe('renderMatrixText', () => {
  it('prints a header, one line per gate in order, then the verdict', () => {
    const lines = renderMatrixText(loadReportFixture('broker-config-redis')).split('\n')
    expect(lines).toHaveLength(1 + GATE_IDS.length + 1)
    expect(lines[0]).toMatch(/^Gate +Status +Evidence$/)
    expect(lines.slice(1, 7).map((line) => line.split(' ')[0])).toEqual([...GATE_IDS])
    expect(lines.slice(1, 7).map((line) => line.split(/ {2,}/)[1])).toEqual([
      'PASS',
      'FAIL',
      'SKIPPED',
      'SKIPPED',
      'SKIPPED',
      'PASS'
    ])
    expect(lines[7]).toBe(
      'Verdict: FAIL — 1 of 5 foundation gates failed: broker-config; 3 skipped: runtime, db-access, rls-role.'
    )
  })

  it('aligns the columns on every line', () => {
    const [header = '', ...rows] = renderMatrixText(loadReportFixture('all-pass')).split('\n').slice(0, 7)
    const [, statusAt = 0, evidenceAt = 0] = columnStarts(header)
    expect(statusAt).toBe('broker-config'.length + 2)
    for (const row of rows) {
      expect(row[statusAt - 1]).toBe(' ')
      expect(row[statusAt]).not.toBe(' ')
      expect(row[evidenceAt - 1]).toBe(' ')
      expect(row[evidenceAt]).not.toBe(' ')
    }
  })

  it('shows only the first evidence line and marks that more exists', () => {
    const lines = renderMatrixText(loadReportFixture('all-pass')).split('\n')
    expect(lines[3]).toMatch(/ PASS {4}`cfg-7d1c0e9a@fv-az1785-417 ready\.` …$/)
    // A one-line evidence gets no mark.
    expect(lines[6]).toMatch(/ PASS {4}fail-on: foundation: .*\(on pull_request\)$/)
  })

  it('marks a first line that fills the width like any cut', () => {
    const report = reportWith({ gateChanges: { runtime: { evidence: `${'y'.repeat(TEXT_WIDTH - 1)}\nmore` } } })
    const line = renderMatrixText(report).split('\n')[3] ?? ''
    expect(line.slice(line.indexOf('y'))).toBe(`${'y'.repeat(TEXT_WIDTH - 1)}…`)
  })

  it('bounds evidence to the text width', () => {
    const report = reportWith({ gateChanges: { runtime: { evidence: 'x'.repeat(5_000) } } })
    const line = renderMatrixText(report).split('\n')[3] ?? ''
    const evidence = line.slice(line.indexOf('x'))
    expect([...evidence]).toHaveLength(TEXT_WIDTH)
    expect(evidence.endsWith('x…')).toBe(true)
  })

  it('counts an astral character as one column', () => {
    const report = reportWith({ gateChanges: { runtime: { evidence: '😀'.repeat(TEXT_WIDTH + 5) } } })
    const line = renderMatrixText(report).split('\n')[3] ?? ''
    expect([...line.slice(line.indexOf('😀'))]).toHaveLength(TEXT_WIDTH)
  })

  it('strips ANSI escapes and control characters and flattens tabs', () => {
    const report = reportWith({ gateChanges: { runtime: { evidence: '\u001b[31mred\u001b[0m\tand\u0007 bell' } } })
    expect(renderMatrixText(report).split('\n')[3]).toMatch(/ PASS {4}red and bell$/)
  })

  it('uses no markdown, emoji or colour, and leaves no trailing spaces', () => {
    for (const name of REPORT_FIXTURES) {
      const text = renderMatrixText(loadReportFixture(name))
      expect(text).not.toMatch(/^\||<br>|&\w+;|\*\*Verdict|\p{Extended_Pictographic}|\u001b/mu)
      expect(text).not.toMatch(/ $/m)
    }
  })

  it('says why an interrupted run stopped', () => {
    const cancelled = renderMatrixText(loadReportFixture('cancelled')).split('\n')
    expect(cancelled.at(-2)).toBe(
      'Verdict: FAIL — 2 of 5 foundation gates passed; 3 skipped: runtime, db-access, rls-role; outside the foundation, 1 skipped: ci.'
    )
    expect(cancelled.at(-1)).toBe('Interrupted: cancelled by the runner — cancelled by SIGINT')
    expect(renderMatrixText(loadReportFixture('input-error')).split('\n').at(-1)).toBe(
      'Interrupted: input error — Input "timeout": expected a number of seconds from 1 to 3600, got "abc"'
    )
  })

  it('prints just the verdict when there are no gates', () => {
    expect(renderMatrixText(reportWith({ gates: [], verdict: 'fail' }))).toBe('Verdict: FAIL — no foundation gates ran.')
  })
})
