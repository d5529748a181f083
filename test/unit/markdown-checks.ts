// What the summary tests share: splitting GitHub's tables and code spans, finding rows and
// sections, the gate badges, and counts written as the renderer writes them.
import type { GateStatus } from '../../src/constants.js'
import { gateIdsOf, loadReportFixture } from './report-fixtures.js'

export const MATRIX_HEADER = '| Gate | Description | Status | Evidence |'
export const TRIM_NOTICE = /^_Summary trimmed to fit .+\._$/

/** Splits a GFM table row the way GitHub does: `\` escapes the next character, `|` separates. */
export function splitCells(line: string): string[] {
  const cells: string[] = []
  let cell = ''
  for (let index = 1; index < line.length - 1; index++) {
    const character = line[index]
    if (character === '\\') {
      cell += character + (line[index + 1] ?? '')
      index++
    } else if (character === '|') {
      cells.push(cell.trim())
      cell = ''
    } else {
      cell += character
    }
  }
  cells.push(cell.trim())
  return cells
}

/** Between a status's emoji and its label in the matrix (statusCell). */
export const NBSP = '\u00a0'

export function matrixRows(markdown: string): string[][] {
  return tableRows(markdown, MATRIX_HEADER)
}

/** The matrix row of gate `id`, found by the id its first cell ends with, not by its position. */
export function matrixRowOf(markdown: string, id: string): string[] | undefined {
  return matrixRows(markdown).find((cells) => cells[0]?.endsWith(`\`${id}\``))
}

/** The badge the matrix shows for each status. */
export const GATE_BADGES: Readonly<Record<GateStatus, string>> = {
  pass: '✅ PASS',
  fail: '❌ FAIL',
  warn: '⚠️ MIXED',
  skip: '⏭️ SKIPPED'
}

/** Gate ids as the verdict sentence names them: "`runtime`, `rls-role`". */
export const codeIds = (ids: readonly string[]): string => ids.map((id) => `\`${id}\``).join(', ')

/** How many foundation gates a run has: the real runs' count, from a fixture. */
export const FOUNDATION_GATES = gateIdsOf(loadReportFixture('all-pass')).length

/** The cells of each row of the table that starts with `header`. */
export function tableRows(markdown: string, header: string): string[][] {
  const lines = markdown.split('\n')
  const start = lines.indexOf(header)
  if (start === -1) return []
  const rows: string[][] = []
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break
    rows.push(splitCells(line))
  }
  return rows
}

/** Reads inline markdown the way GitHub does: `\` escapes the next character, `…` is a code span. */
export function splitCodeSpans(markdown: string): { outside: string[]; spans: string[] } {
  const outside: string[] = []
  const spans: string[] = []
  let piece = ''
  for (let index = 0; index < markdown.length; index++) {
    const character = markdown[index] ?? ''
    if (character === '\\') {
      piece += character + (markdown[index + 1] ?? '')
      index++
    } else if (character === '`') {
      const end = markdown.indexOf('`', index + 1)
      if (end === -1) throw new Error(`unclosed code span in ${markdown}`)
      outside.push(piece)
      spans.push(markdown.slice(index, end + 1))
      piece = ''
      index = end
    } else {
      piece += character
    }
  }
  outside.push(piece)
  return { outside, spans }
}

export function lastLine(markdown: string): string {
  return markdown.trimEnd().split('\n').at(-1) ?? ''
}

export function verdictLine(markdown: string): string {
  return markdown.split('\n').find((line) => line.startsWith('**Verdict:')) ?? ''
}

/** The `<details>` block whose summary contains `summaryText`. */
export function detailsSection(markdown: string, summaryText: string): string | undefined {
  return markdown
    .split(/(?=<details)/)
    .map((chunk) => chunk.slice(0, chunk.indexOf('</details>') + '</details>'.length))
    .find((block) => (block.match(/<summary>(.*)<\/summary>/)?.[1] ?? '').includes(summaryText))
}

/** Numbers as the summary prints them: 6,333. */
export const thousands = (n: number): string => n.toLocaleString('en-US')

/** A count and its noun as the summary prints them: "1 failing test", "1,200 failing tests". */
export const countOf = (n: number, one: string, many = `${one}s`): string => `${thousands(n)} ${n === 1 ? one : many}`
