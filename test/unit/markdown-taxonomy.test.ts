// The job summary's failure taxonomy: its table and the components.
import { describe, expect, it } from 'vitest'
import { GATE_IDS } from '../../src/constants.js'
import { inlineMarkdown, renderSummary } from '../../src/report/markdown.js'
import { FOUNDATION_CATEGORIES } from '../../src/taxonomy/model.js'
import type { Category, ComponentStatus, TestsReport } from '../../src/taxonomy/model.js'
import { failingTest, loadReportFixture, reportWithTests, strictXpass } from './report-fixtures.js'
import { MATRIX_HEADER, tableRows, countOf } from './markdown-checks.js'
import {
  COMPONENTS_HEADER,
  suiteRedTests,
  foundationRedTests,
  suiteRed,
  foundationRed,
  COMPONENT_BADGES,
  isFoundation,
  isHarness,
  tableOrder,
  gateCell,
  taxonomyRows,
  violationsLine
} from './markdown-taxonomy-checks.js'

describe('renderSummary: failure taxonomy', () => {
  it('comes after the gate matrix and before the collapsed sections, led by the verdict in bold', () => {
    const { verdict, taxonomy } = suiteRedTests
    expect(verdict).toMatch(/^foundation green, test suite red: /)
    expect(taxonomy.length).toBeGreaterThan(0)
    const lines = suiteRed.split('\n')
    const heading = lines.indexOf('### Failure taxonomy')
    // After the header, its separator and one row per gate.
    expect(heading).toBeGreaterThan(lines.indexOf(MATRIX_HEADER) + 1 + GATE_IDS.length)
    expect(heading).toBeLessThan(lines.findIndex((line) => line.startsWith('<details')))
    expect(lines[heading + 2]).toBe(`**${inlineMarkdown(verdict.charAt(0).toUpperCase() + verdict.slice(1))}**`)
    expect(lines[heading + 2]).toMatch(/^\*\*Foundation green, test suite red: /)
    const categories = new Set(taxonomy.map((entry) => entry.category)).size
    const summaries = [...suiteRed.matchAll(/<summary>(.*)<\/summary>/g)].map((match) => match[1])
    expect(summaries[0]).toBe(`Remediation by category (${countOf(taxonomy.length, 'failing test')} in ${countOf(categories, 'category', 'categories')})`)
    // The gates' own collapsed sections come after it.
    expect(summaries[1]).toMatch(/ \(<code>[\w-]+<\/code>\): details$/)
  })

  it('is absent when the run read no test reports', () => {
    expect(renderSummary(loadReportFixture('all-pass'))).not.toContain('Failure taxonomy')
  })

  it('has a row of four cells per failing test: id, type, gate violated, category', () => {
    const { taxonomy } = suiteRedTests
    const rows = taxonomyRows(suiteRed)
    expect(rows).toHaveLength(taxonomy.length)
    expect(rows.map((cells) => cells.length)).toEqual(Array(taxonomy.length).fill(4))
    const ordered = tableOrder(taxonomy)
    expect(rows.map((cells) => cells[0])).toEqual(ordered.map(({ classname, name }) => `\`${classname}::${name}\``))
    expect(rows.map((cells) => cells[3])).toEqual(ordered.map(({ category }) => `\`${category}\``))
    // The real readiness race errors in its fixture's setup; its row in full.
    const setupError = ordered.findIndex((entry) => entry.outcome === 'error' && entry.phase === 'setup')
    expect(setupError).toBeGreaterThanOrEqual(0)
    const entry = ordered[setupError]!
    expect(rows[setupError]).toEqual([`\`${entry.classname}::${entry.name}\``, 'Setup error', gateCell(entry.category), `\`${entry.category}\``])
    expect(rows.filter((cells) => cells[1] === 'Failure')).toHaveLength(
      taxonomy.filter(({ outcome, phase }) => outcome === 'failure' && phase === 'call').length
    )
  })

  it('tells the type of failure from its outcome and phase', () => {
    const phases = [
      ['error', 'setup'],
      ['error', 'teardown'],
      ['error', 'collection'],
      ['failure', 'call'],
      ['error', 'call']
    ] as const
    const report = reportWithTests(phases.map(([outcome, phase], index) => failingTest(index, 'harness:eager-mode', { outcome, phase })))
    expect(taxonomyRows(renderSummary(report)).map((cells) => cells[1])).toEqual(['Setup error', 'Teardown error', 'Collection error', 'Failure', 'Error'])
  })

  it('says which gate a foundation failure violates, and that the others violate none', () => {
    // The real foundation-red run: the foundation's failures name their gate, the harness's none.
    const foundationTaxonomy = foundationRedTests.taxonomy
    expect(foundationTaxonomy.some((entry) => isFoundation(entry.category))).toBe(true)
    expect(foundationTaxonomy.some((entry) => isHarness(entry.category))).toBe(true)
    const rows = taxonomyRows(foundationRed)
    expect(rows.map((cells) => cells[2])).toEqual(tableOrder(foundationTaxonomy).map((entry) => gateCell(entry.category)))
    expect(rows.filter((cells) => cells[2]?.startsWith('❌ Yes: `'))).toHaveLength(foundationTaxonomy.filter((entry) => isFoundation(entry.category)).length)
    // The same run with a failure no rule explains: it is attributed to no gate, and comes last.
    const withUnknown = taxonomyRows(renderSummary(reportWithTests([strictXpass(0), ...foundationTaxonomy])))
    expect(withUnknown.map((cells) => cells[2])).toEqual([...tableOrder(foundationTaxonomy).map((entry) => gateCell(entry.category)), '❔ Unknown'])
    expect(withUnknown.at(-1)).toEqual(['`tests.test_synthetic::test_0`', 'Failure', '❔ Unknown', '`unknown`'])
    // The real suite-red run is all harness: no row violates a gate.
    expect(suiteRedTests.taxonomy.every((entry) => isHarness(entry.category))).toBe(true)
    expect(taxonomyRows(suiteRed).map((cells) => cells[2])).toEqual(Array(suiteRedTests.taxonomy.length).fill('✅ No'))
  })

  it('lists foundation failures first, then the harness, then the rest, each in report order', () => {
    const order: Category[] = ['unknown', 'harness:readiness', 'foundation:db-access', 'harness:eager-mode', 'foundation:runtime', 'unknown']
    const report = reportWithTests(order.map((category, index) => failingTest(index, category)))
    expect(taxonomyRows(renderSummary(report)).map((cells) => cells[0])).toEqual([2, 4, 1, 3, 0, 5].map((index) => `\`tests.test_synthetic::test_${index}\``))
  })

  it('counts the distinct gates the failing tests violate', () => {
    const gates = countOf(loadReportFixture('tests-suite-red').gates.filter((g) => g.foundation).length, 'foundation gate')
    expect(suiteRedTests.taxonomy.some((entry) => isFoundation(entry.category))).toBe(false)
    expect(violationsLine(suiteRed)).toBe(`**Total foundation gate violations: 0 / ${gates}** — no failing test is attributed to the foundation.`)
    // Each blamed gate once, in gate order, with how many failing tests blame it.
    const blamed = FOUNDATION_CATEGORIES.flatMap((category) => {
      const count = foundationRedTests.taxonomy.filter((entry) => entry.category === category).length
      return count === 0 ? [] : [`\`${category.slice('foundation:'.length)}\` (${countOf(count, 'failing test')})`]
    })
    expect(blamed.length).toBeGreaterThan(0)
    expect(violationsLine(foundationRed)).toBe(`**Total foundation gate violations: ${blamed.length} / ${gates}**: ${blamed.join(', ')}.`)
    const categories: Category[] = [
      'foundation:runtime',
      'harness:readiness',
      'foundation:db-access',
      'foundation:runtime',
      'foundation:db-access',
      'foundation:runtime'
    ]
    const report = reportWithTests(categories.map((category, index) => failingTest(index, category)))
    expect(violationsLine(renderSummary(report))).toBe(
      `**Total foundation gate violations: 2 / ${gates}**: \`runtime\` (3 failing tests), \`db-access\` (2 failing tests).`
    )
  })

  it('shows each component with its status', () => {
    // The real runs: every component in report order, its kind, badge and evidence.
    const componentRows = ({ components }: TestsReport): string[][] =>
      components.map(({ component, kind, status, evidence }) => [`**${component}** (${kind})`, COMPONENT_BADGES[status], inlineMarkdown(evidence) || '—'])
    expect(suiteRedTests.components.length).toBeGreaterThan(0)
    expect(tableRows(suiteRed, COMPONENTS_HEADER)).toEqual(componentRows(suiteRedTests))
    expect(tableRows(foundationRed, COMPONENTS_HEADER)).toEqual(componentRows(foundationRedTests))
    // The foundation-red run shows a broken foundation component, the suite-red run none.
    expect(tableRows(foundationRed, COMPONENTS_HEADER).some((cells) => cells[0]?.endsWith('(foundation)') && cells[1] === '❌ BROKEN')).toBe(true)
    expect(
      tableRows(suiteRed, COMPONENTS_HEADER)
        .filter((cells) => cells[0]?.endsWith('(foundation)'))
        .map((cells) => cells[1])
    ).not.toContain('❌ BROKEN')
    // Evidence goes through the outside-text escaping (the real one has an apostrophe and `_`).
    expect(
      tableRows(suiteRed, COMPONENTS_HEADER)
        .map((cells) => cells[2])
        .join('\n')
    ).toMatch(/&#39;|\\_/)
    const statuses: Array<ComponentStatus['status']> = ['operational', 'broken', 'unproven', 'sound', 'defective', 'no-reports']
    const components = statuses.map((status) => ({ component: status, kind: 'tests' as const, status, evidence: '' }))
    expect(tableRows(renderSummary(reportWithTests([], { components })), COMPONENTS_HEADER)).toEqual([
      ['**operational** (tests)', '✅ OPERATIONAL', '—'],
      ['**broken** (tests)', '❌ BROKEN', '—'],
      ['**unproven** (tests)', '⏭️ UNPROVEN', '—'],
      ['**sound** (tests)', '✅ SOUND', '—'],
      ['**defective** (tests)', '❌ DEFECTIVE', '—'],
      ['**no-reports** (tests)', '⚠️ NO REPORTS', '—']
    ])
  })
})
