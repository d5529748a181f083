// The gate matrix as plain text for the Actions log or a terminal: no markdown, no colours, no
// emoji, one line per gate. The summary carries the full evidence; this is the glance.
import type { GateStatus } from '../constants.js'
import type { TestsReport } from '../taxonomy/model.js'
import type { RunReport } from './model.js'
import { stripControlCharacters } from './escape.js'
import { countOf } from './format.js'
import { categoryRank, describeGateOutcome, describeInterruption, statusLabel } from './status.js'

/** Evidence and messages are cut to this many characters: longer lines wrap into noise. */
export const TEXT_WIDTH = 100

const COLUMN_GAP = '  '

/**
 * Aligned `Gate  Status  Evidence` lines, then the verdict (and why the run stopped early), then
 * the tests' verdict and their failures by category.
 */
export function renderMatrixText(report: RunReport, options: MatrixTextOptions = {}): string {
  const style = options.styleStatus ?? ((_status: GateStatus, text: string) => text)
  const rows = report.gates.map((gate) => [clip(gate.id), statusLabel(gate.status), clip(gate.evidence)])
  const statuses = [undefined, ...report.gates.map((gate) => gate.status)]
  const matrix =
    rows.length === 0
      ? []
      : alignColumns([['Gate', 'Status', 'Evidence'], ...rows], (row, column, text) => {
          const status = statuses[row]
          return column === 1 && status !== undefined ? style(status, text) : text
        })
  const verdict = `Verdict: ${style(report.verdict, statusLabel(report.verdict))} — ${describeGateOutcome(report.gates, clip)}.`
  const { interrupted } = report
  const interruption = interrupted === undefined ? [] : [`Interrupted: ${describeInterruption(interrupted.kind)} — ${clip(interrupted.message)}`.trimEnd()]
  const tests = report.tests === undefined ? [] : testsLines(report.tests)
  return [...matrix, verdict, ...interruption, ...tests].join('\n')
}

function testsLines(tests: TestsReport): string[] {
  const counts = Object.entries(tests.byCategory)
    .filter(([, count]) => count !== undefined && count > 0)
    .sort(([a], [b]) => categoryRank(a) - categoryRank(b))
    .map(([category, count]) => `${category} ${count}`)
  const unmatched = tests.unmatched.length
  const unusable = tests.files.filter((file) => file.status !== 'ok').length
  const findings = [
    ...(unmatched === 0 ? [] : [`${countOf(unmatched, 'glob')} matched no file`]),
    ...(unusable === 0 ? [] : [`${countOf(unusable, 'file')} could not be used`])
  ]
  return [
    `Tests: ${clip(tests.verdict)}`.trimEnd(),
    ...(counts.length === 0 ? [] : [`Failing tests by category: ${clip(counts.join(', '))}`]),
    ...(findings.length === 0 ? [] : [`Test reports: ${findings.join('; ')}`])
  ]
}

function clip(text: string): string {
  return clipToFirstLine(text, TEXT_WIDTH)
}

export interface MatrixTextOptions {
  /**
   * Decorates a status once the columns are aligned (a terminal colours it): the text passed in
   * is already padded, so escape codes added here cannot shift the columns.
   */
  styleStatus?: (status: GateStatus, text: string) => string
}

/** Pads every column but the last to its widest cell, so the last needs no trailing spaces. */
function alignColumns(
  rows: ReadonlyArray<readonly string[]>,
  decorate: (row: number, column: number, text: string) => string = (_row, _column, text) => text
): string[] {
  const widths: number[] = []
  for (const row of rows) {
    row.forEach((cell, column) => {
      widths[column] = Math.max(widths[column] ?? 0, displayWidth(cell))
    })
  }
  return rows.map((row, index) =>
    row
      .map((cell, column) => decorate(index, column, column === row.length - 1 ? cell : padToWidth(cell, widths[column] ?? 0)))
      .join(COLUMN_GAP)
      .trimEnd()
  )
}

/**
 * The first line of outside text, without control characters (an ANSI escape would colour or
 * move the cursor in a terminal) and at most `width` characters; `…` marks anything dropped.
 */
function clipToFirstLine(text: string, width: number): string {
  const [first = '', ...rest] = stripControlCharacters(text).trim().split('\n')
  // Tabs would break the alignment of the columns.
  const line = first.replace(/\s+/g, ' ').trim()
  const characters = [...line]
  if (characters.length <= width && rest.length === 0) return line
  // A whole first line with more after it gets the mark after a space ("ready. …"), so it does
  // not read as a cut word or a typo ("ready.…").
  if (characters.length <= width - 2 && line !== '') return `${line} …`
  return `${characters
    .slice(0, width - 1)
    .join('')
    .trimEnd()}…`
}

// Code points, not UTF-16 units, so an astral character counts once. Wide CJK characters still
// count as one; evidence is overwhelmingly ASCII and the last column is never padded.
function displayWidth(text: string): number {
  return [...text].length
}

function padToWidth(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)))
}
