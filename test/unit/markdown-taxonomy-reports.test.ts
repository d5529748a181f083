// The job summary's failure taxonomy: the reports read, remediations, and the bounds it keeps.
import { describe, expect, it } from 'vitest'
import { GATE_IDS } from '../../src/constants.js'
import { utf8ByteLength } from '../../src/report/escape.js'
import {
  DEFAULT_SUMMARY_BUDGET_BYTES,
  EVIDENCE_CELL_LINE_CHARS,
  inlineMarkdown,
  REMEDIATION_EXAMPLES,
  REMEDIATION_RULES,
  renderSummary,
  REPORT_FINDINGS_SHOWN,
  TAXONOMY_TABLE_ROWS
} from '../../src/report/markdown.js'
import type { RunReport } from '../../src/report/model.js'
import type { TaxonomyEntry } from '../../src/taxonomy/model.js'
import { failingTest, loadReportFixture, reportFile, reportWithTests, strictXpass } from './report-fixtures.js'
import { splitCells, matrixRows, tableRows, splitCodeSpans, lastLine, detailsSection, thousands, countOf } from './markdown-checks.js'
import { TAXONOMY_HEADER, COMPONENTS_HEADER, suiteRedTests, suiteRed, readLine, taxonomyRows, violationsLine, moreLine } from './markdown-taxonomy-checks.js'

describe('renderSummary: failure taxonomy (reports, remediations, bounds)', () => {
  it('says what it read, and names globs that matched nothing and files it could not use', () => {
    // Some files read, a glob that matched nothing and a broken file, in one report.
    const mixed = renderSummary(
      reportWithTests([strictXpass(0)], {
        files: [
          reportFile('reports/unit/junit.xml', 'ok', { counts: { cases: 40, passed: 38, failed: 1, errored: 0, skipped: 0, xfailed: 1, xpassed: 0 } }),
          reportFile('reports/integration/junit-api.xml', 'ok', {
            counts: { cases: 29, passed: 27, failed: 0, errored: 0, skipped: 2, xfailed: 0, xpassed: 0 }
          }),
          reportFile('reports/integration/junit-worker.xml', 'malformed', { detail: 'line 12, column 3: unexpected end of input' })
        ],
        unmatched: ['reports/e2e/*.xml'],
        totals: { cases: 69, passed: 65, failed: 1, errored: 0, skipped: 2, xfailed: 1, xpassed: 0 },
        rulesFile: '.github/taxonomy-rules.yml'
      })
    )
    expect(mixed).toContain(
      [
        '**JUnit reports:** 2 of 3 files read, 69 test cases: 65 passed, 1 failed, 0 errored, 2 skipped, 1 xfailed.',
        '',
        '- ⚠️ No file matched `reports/e2e/*.xml`.',
        '- ⚠️ `reports/integration/junit-worker.xml` is not well-formed XML: line 12, column 3: unexpected end of input.',
        '',
        TAXONOMY_HEADER
      ].join('\n')
    )
    expect(mixed).toContain('Rules from `.github/taxonomy-rules.yml` come first, then the shipped ones.')

    // The real run whose glob matched nothing and whose other file is not JUnit: nothing read.
    const findings = loadReportFixture('tests-report-findings').tests!
    const unusable = findings.files.filter((file) => file.status !== 'ok')
    expect(findings.unmatched.length).toBeGreaterThan(0)
    expect(unusable.some((file) => file.status === 'malformed')).toBe(true)
    expect(findings.taxonomy).toEqual([])
    const markdown = renderSummary(loadReportFixture('tests-report-findings'))
    expect(markdown).toContain(
      [
        readLine(findings),
        '',
        ...findings.unmatched.map((pattern) => `- ⚠️ No file matched \`${pattern}\`.`),
        ...unusable.map(({ path, status, detail }) => {
          expect(status).toBe('malformed')
          return `- ⚠️ \`${path}\` is not well-formed XML: ${inlineMarkdown(detail ?? '')}.`
        }),
        '',
        'No test failed or errored.'
      ].join('\n')
    )
    expect(markdown).not.toContain('Rules from')

    // The real suite-red run read every file it matched: the table follows the line directly.
    expect(suiteRedTests.unmatched).toEqual([])
    expect(suiteRedTests.files.every((file) => file.status === 'ok')).toBe(true)
    expect(suiteRed).toContain(`${readLine(suiteRedTests)}\n\n${TAXONOMY_HEADER}`)
  })

  it('names a bounded number of findings of each kind', () => {
    const base = loadReportFixture('tests-report-findings').tests!
    const broken = base.files.find((file) => file.status !== 'ok')!
    expect(broken).toBeDefined()
    const report = reportWithTests(base.taxonomy, {
      unmatched: Array.from({ length: 50 }, (_unused, index) => `reports/missing-${index}/*.xml`),
      files: Array.from({ length: 30 }, (_unused, index) => ({ ...broken, path: `reports/broken-${index}.xml`, status: 'empty' as const, detail: '' }))
    })
    const markdown = renderSummary(report)
    expect(markdown).toContain('**JUnit reports:** 0 of 30 files read,')
    expect(markdown.match(/^- ⚠️ No file matched/gm)).toHaveLength(REPORT_FINDINGS_SHOWN)
    expect(markdown).toContain(`\n- … and ${50 - REPORT_FINDINGS_SHOWN} more globs that matched no file.\n`)
    expect(markdown.match(/^- ⚠️ `reports\/broken-\d+\.xml` is empty\.$/gm)).toHaveLength(REPORT_FINDINGS_SHOWN)
    expect(markdown).toContain(`\n- … and ${30 - REPORT_FINDINGS_SHOWN} more files that could not be used.\n`)
    const none = renderSummary(reportWithTests([], { files: [], unmatched: ['reports/*.xml'] }))
    expect(none).toContain('**JUnit reports:** no file matched.\n\n- ⚠️ No file matched `reports/*.xml`.')
  })

  it('says so when no test failed, without a table or remediation', () => {
    const markdown = renderSummary(reportWithTests([], { verdict: 'foundation green, test suite green' }))
    expect(markdown).toContain('**Foundation green, test suite green**')
    expect(markdown).toContain('\n\nNo test failed or errored.\n\n#### Test vs foundation distinction\n\n')
    expect(markdown).not.toContain(TAXONOMY_HEADER)
    expect(markdown).not.toContain('Remediation by category')
    expect(markdown).not.toContain('Total foundation gate violations')
  })

  it('gives each remediation once per rule, with a few examples', () => {
    const eager = Array.from({ length: 500 }, (_unused, index) =>
      failingTest(index, 'harness:eager-mode', { rule: 'eager-mode', remediation: 'Use a real worker.' })
    )
    const custom = failingTest(500, 'harness:eager-mode', { rule: 'my-eager-rule', remediation: 'Ask the team.' })
    const markdown = renderSummary(reportWithTests([...eager.slice(0, 250), custom, ...eager.slice(250)]))
    const section = detailsSection(markdown, 'Remediation by category') ?? ''
    expect(section).toContain('<summary>Remediation by category (501 failing tests in 1 category)</summary>')
    expect(section).toContain('#### `harness:eager-mode`: 501 failing tests')
    expect(section.match(/Use a real worker\./g)).toHaveLength(1)
    expect(section).toContain(
      [
        'Rule `eager-mode` (500 failing tests): Use a real worker.',
        '',
        ...Array.from(
          { length: REMEDIATION_EXAMPLES },
          (_unused, index) => `- \`tests.test_synthetic::test_${index}\`: \`AssertionError: assert ${index} == 0\``
        ),
        `- … and ${500 - REMEDIATION_EXAMPLES} more failing tests`
      ].join('\n')
    )
    expect(section).toContain('Rule `my-eager-rule` (1 failing test): Ask the team.\n\n- `tests.test_synthetic::test_500`')
    // The real suite-red run: one rule per category, so no count per rule.
    const eagerMode = suiteRedTests.taxonomy.filter((entry) => entry.category === 'harness:eager-mode')
    expect(new Set(eagerMode.map((entry) => entry.rule))).toEqual(new Set(['eager-mode']))
    expect(detailsSection(suiteRed, 'Remediation by category')).toContain(
      `#### \`harness:eager-mode\`: ${countOf(eagerMode.length, 'failing test')}\n\nRule \`eager-mode\`: With task\\_always\\_eager`
    )
  })

  it('lists a bounded number of rules per category', () => {
    const taxonomy = Array.from({ length: 25 }, (_unused, index) => failingTest(index, 'unknown', { rule: `user-rule-${index}` }))
    const section = detailsSection(renderSummary(reportWithTests(taxonomy)), 'Remediation by category') ?? ''
    expect(section.match(/^Rule `user-rule-\d+`/gm)).toHaveLength(REMEDIATION_RULES)
    expect(section).toContain(`… and ${25 - REMEDIATION_RULES} more rules (see the JSON report).`)
  })

  /** 100,000 failing tests: the last two are the foundation's, the rest the harness's. */
  function hundredThousand(changes: (index: number) => Partial<TaxonomyEntry> = () => ({})): RunReport {
    const taxonomy = Array.from({ length: 100_000 }, (_unused, index) =>
      failingTest(index, index >= 99_998 ? 'foundation:runtime' : index % 2 === 0 ? 'harness:eager-mode' : 'harness:readiness', changes(index))
    )
    return reportWithTests(taxonomy)
  }

  it('shows at most 100 of 100,000 failing tests, the foundation first, and says how many more', () => {
    const started = performance.now()
    const markdown = renderSummary(hundredThousand())
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(utf8ByteLength(markdown)).toBeLessThanOrEqual(DEFAULT_SUMMARY_BUDGET_BYTES)
    const rows = taxonomyRows(markdown)
    expect(rows).toHaveLength(TAXONOMY_TABLE_ROWS)
    expect(rows.slice(0, 3).map((cells) => cells[0])).toEqual([
      '`tests.test_synthetic::test_99998`',
      '`tests.test_synthetic::test_99999`',
      '`tests.test_synthetic::test_0`'
    ])
    expect(moreLine(markdown)).toBe('… and 99,900 more failing tests (all of them are in the JSON report and the `taxonomy` output).')
    expect(violationsLine(markdown)).toBe(
      `**Total foundation gate violations: 1 / ${countOf(loadReportFixture('all-pass').gates.filter((g) => g.foundation).length, 'foundation gate')}**: \`runtime\` (2 failing tests).`
    )
    expect(markdown).toContain('<summary>Remediation by category (100,000 failing tests in 3 categories)</summary>')
    expect(markdown).toContain('#### `harness:eager-mode`: 49,999 failing tests')
    expect(markdown).not.toContain('Summary trimmed')
  }, 30_000)

  it('shortens the taxonomy table, foundation rows last, before the gate matrix', () => {
    const budget = 16_000
    const markdown = renderSummary(
      hundredThousand((index) => ({ name: `test_${index}_${'long_parametrized_id_'.repeat(8)}` })),
      {
        budgetBytes: budget
      }
    )
    expect(utf8ByteLength(markdown)).toBeLessThanOrEqual(budget)
    const notice = lastLine(markdown)
    const shown = Number(/failure taxonomy table shortened to ([\d,]+) of 100 rows/.exec(notice)?.[1]?.replace(/,/g, ''))
    expect(notice).toMatch(
      /^_Summary trimmed to fit a budget of 16,000 bytes: worker log (omitted|shortened to \d of \d+ lines).*; run section omitted; failure taxonomy table shortened to /
    )
    expect(notice).not.toContain('gates shown')
    expect(shown).toBeGreaterThan(2)
    expect(shown).toBeLessThan(TAXONOMY_TABLE_ROWS)
    const rows = taxonomyRows(markdown)
    expect(rows).toHaveLength(shown)
    expect(rows.slice(0, 2).map((cells) => cells[2])).toEqual(['❌ Yes: `runtime`', '❌ Yes: `runtime`'])
    expect(moreLine(markdown)).toBe(`… and ${thousands(100_000 - shown)} more failing tests (all of them are in the JSON report and the \`taxonomy\` output).`)
    expect(matrixRows(markdown)).toHaveLength(GATE_IDS.length)
  }, 30_000)

  const HOSTILE = [
    '<script>alert(1)</script>',
    'a | b || c',
    '`code` ``span',
    'line\nbreak\r\nand\ttab',
    '\u001b[31mred\u001b[0m\u0000\u0007\u202e',
    '@octocat [x](https://evil.example)',
    '</details><details><summary>fake</summary>',
    '</pre>'
  ]

  it('keeps hostile names, evidence, paths and remediations in their place', () => {
    const taxonomy = HOSTILE.map((text, index) =>
      failingTest(index, index % 2 === 0 ? 'foundation:runtime' : 'unknown', {
        classname: text,
        name: text,
        evidence: text,
        rule: text,
        remediation: `${text}\n\n${text}`
      })
    )
    const report = reportWithTests(taxonomy, {
      verdict: HOSTILE.join(' '),
      unmatched: HOSTILE,
      files: HOSTILE.map((text) => reportFile(text, 'malformed', { detail: text })),
      components: HOSTILE.map((text) => ({ component: text, kind: 'foundation' as const, status: 'broken' as const, evidence: text })),
      rulesFile: HOSTILE.join('')
    })
    const markdown = renderSummary(report)
    const rows = taxonomyRows(markdown)
    expect(rows).toHaveLength(HOSTILE.length)
    expect(rows.map((cells) => cells.length)).toEqual(Array(HOSTILE.length).fill(4))
    expect(tableRows(markdown, COMPONENTS_HEADER).map((cells) => cells.length)).toEqual(Array(HOSTILE.length).fill(3))
    expect(markdown).not.toMatch(/<\/?script/i)
    expect(markdown).not.toContain('<summary>fake')
    expect(markdown).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/)
    // Outside code spans (where GitHub links nothing), no mention and no link.
    const section = markdown.slice(markdown.indexOf('### Failure taxonomy'), markdown.indexOf('<summary>✅ PASS DB'))
    for (const line of section.split('\n')) {
      for (const cell of line.startsWith('|') ? splitCells(line) : [line]) {
        for (const piece of splitCodeSpans(cell).outside) {
          expect(piece).not.toMatch(/(?<![\w@])@octocat/)
          for (const match of piece.matchAll(/(\\*)[[\]]/g)) expect((match[1] ?? '').length % 2).toBe(1)
        }
      }
    }
    expect(markdown.match(/<details/g)?.length).toBe(markdown.match(/<\/details>/g)?.length)
    expect(markdown.match(/<pre>/g)?.length).toBe(markdown.match(/<\/pre>/g)?.length)
    // A test id with line breaks is folded onto its row (foundation rows first: index 3 is the sixth).
    expect(rows[5]?.[0]).toBe('<code>line break and\ttab::line break and\ttab</code>')
  })

  it('never lets random hostile test names out of their cell', () => {
    const alphabet = [...'ab |\\`*_[]()!<>&"\'#~$@:\n\t\r', '``', '\u001b[31m', '\u0000', '\u202e', 'é', '😀']
    let seed = 7
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
    const text = (): string => Array.from({ length: 30 }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')
    for (let round = 0; round < 5; round++) {
      const taxonomy = Array.from({ length: TAXONOMY_TABLE_ROWS }, (_unused, index) =>
        failingTest(index, 'harness:readiness', { classname: text(), name: text() })
      )
      const rows = taxonomyRows(renderSummary(reportWithTests(taxonomy)))
      expect(rows).toHaveLength(TAXONOMY_TABLE_ROWS)
      for (const cells of rows) {
        expect(cells).toHaveLength(4)
        expect(cells.slice(1)).toEqual(['Failure', '✅ No', '`harness:readiness`'])
        expect(cells[0]?.replace(/<\/?code>/g, '')).not.toMatch(/[<>\n]/)
      }
    }
  })

  it('bounds a huge test name, evidence and remediation', () => {
    const huge = 'x'.repeat(1_000_000)
    const report = reportWithTests([failingTest(0, 'unknown', { name: huge, evidence: huge, remediation: huge })])
    const markdown = renderSummary(report)
    expect(utf8ByteLength(markdown)).toBeLessThan(40_000)
    const kept = 'x'.repeat(EVIDENCE_CELL_LINE_CHARS - 'tests.test_synthetic::'.length - 1)
    // The mark makes it more than printable ASCII, so it is escaped `<code>` rather than a span.
    expect(taxonomyRows(markdown)[0]?.[0]).toBe(`<code>tests.test\\_synthetic::${kept}…</code>`)
    expect(markdown).not.toContain('Summary trimmed')
  })
})
