// What the failure-taxonomy summary tests share: the fixtures of real runs rendered once, the
// table's order and cells, and the lines the summary writes.
import { renderSummary } from '../../src/report/markdown.js'
import type { ComponentStatus, TaxonomyEntry, TestsReport } from '../../src/taxonomy/model.js'
import { loadReportFixture } from './report-fixtures.js'
import { tableRows, thousands, countOf } from './markdown-checks.js'

export const TAXONOMY_HEADER = '| Test | Type | Gate violated? | Root-cause category |'
export const COMPONENTS_HEADER = '| Component | Status | Evidence |'
// Reports captured from real runs (npm run capture-fixtures): expectations are derived from
// what they hold, so a recapture with other counts or names does not break the tests.
export const suiteRedTests = loadReportFixture('tests-suite-red').tests!
export const foundationRedTests = loadReportFixture('tests-foundation-red').tests!
export const suiteRed = renderSummary(loadReportFixture('tests-suite-red'))
export const foundationRed = renderSummary(loadReportFixture('tests-foundation-red'))

export const COMPONENT_BADGES: Record<ComponentStatus['status'], string> = {
  operational: '✅ OPERATIONAL',
  broken: '❌ BROKEN',
  unproven: '⏭️ UNPROVEN',
  sound: '✅ SOUND',
  defective: '❌ DEFECTIVE',
  'no-reports': '⚠️ NO REPORTS'
}
export const isFoundation = (category: string): boolean => category.startsWith('foundation:')
export const isHarness = (category: string): boolean => category.startsWith('harness:')
/** The taxonomy table's order: foundation, then harness, then the rest, each in report order. */
export const tableOrder = (taxonomy: readonly TaxonomyEntry[]): TaxonomyEntry[] => [
  ...taxonomy.filter((entry) => isFoundation(entry.category)),
  ...taxonomy.filter((entry) => isHarness(entry.category)),
  ...taxonomy.filter((entry) => !isFoundation(entry.category) && !isHarness(entry.category))
]
/** The "Gate violated?" cell the table must show for a category. */
export const gateCell = (category: string): string =>
  isFoundation(category) ? `❌ Yes: \`${category.slice('foundation:'.length)}\`` : isHarness(category) ? '✅ No' : '❔ Unknown'
/** The "JUnit reports" line for a report's files and totals, when at least one file matched. */
export const readLine = ({ files, totals }: TestsReport): string => {
  const read = files.filter((file) => file.status === 'ok').length
  const outcomes = [
    `${thousands(totals.passed)} passed`,
    `${thousands(totals.failed)} failed`,
    `${thousands(totals.errored)} errored`,
    `${thousands(totals.skipped)} skipped`,
    ...(totals.xfailed > 0 ? [`${thousands(totals.xfailed)} xfailed`] : []),
    ...(totals.xpassed > 0 ? [`${thousands(totals.xpassed)} xpassed`] : [])
  ]
  return `**JUnit reports:** ${thousands(read)} of ${countOf(files.length, 'file')} read, ${countOf(totals.cases, 'test case')}: ${outcomes.join(', ')}.`
}

export const taxonomyRows = (markdown: string): string[][] => tableRows(markdown, TAXONOMY_HEADER)
export const violationsLine = (markdown: string): string => markdown.split('\n').find((line) => line.startsWith('**Total foundation gate violations:')) ?? ''
export const moreLine = (markdown: string): string => markdown.split('\n').find((line) => line.startsWith('… and ')) ?? ''
