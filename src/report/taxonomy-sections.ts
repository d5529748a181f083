// The failure taxonomy's sections of the job summary: what the JUnit reports held, each failing
// test's row (foundation first), the gates the failures blame, the components, and the
// remediation by category. A report can hold a hundred thousand failing tests: one pass over
// them picks what the summary can show, and the JSON report keeps them all.
import type { Category, TaxonomyEntry, TestsReport } from '../taxonomy/model.js'
import type { Block, Cuts } from './budget.js'
import { detailsBlock, escapeHtmlLine, escapeTableCell, inlineCode } from './escape.js'
import {
  clipCharacters,
  countOf,
  entryOf,
  formatCount,
  inlineMarkdown,
  lazyTable,
  markdownTable,
  memoize,
  namedAtMost,
  once,
  oneLine,
  tableRow
} from './format.js'
import { categoryRank, componentBadge, describeFailureType, describeReportStatus } from './status.js'

/**
 * A report can hold a hundred thousand failing tests. The taxonomy table shows at most this many,
 * foundation ones first, and says how many more there are; the JSON report has them all.
 */
export const TAXONOMY_TABLE_ROWS = 100
/** Failing tests named under each rule in the remediation section. */
export const REMEDIATION_EXAMPLES = 3
/** Rules listed per category in the remediation section (a user's rules file can have many). */
export const REMEDIATION_RULES = 10
/** A remediation (from the user's rules file too) or the tests' verdict is cut beyond this many characters. */
export const REMEDIATION_CHARS = 1_000
/** Globs that matched nothing, and files that could not be read: each list names this many. */
export const REPORT_FINDINGS_SHOWN = 20

/** The failure taxonomy as the summary shows it: one pass over the entries, however many. */
export interface TestsView {
  tests: TestsReport
  /** The rows the table can show: at most `TAXONOMY_TABLE_ROWS`, foundation first, then harness, then the rest. */
  rows: readonly TaxonomyEntry[]
  /** The categories with failing tests, in taxonomy order. */
  categories: readonly CategoryView[]
}

interface CategoryView {
  category: Category
  count: number
  /** The rules that put tests here, in the order first met; one per rule and remediation. */
  rules: RuleView[]
}

interface RuleView {
  rule: string
  remediation: string
  count: number
  /** The first `REMEDIATION_EXAMPLES` tests it matched. */
  examples: TaxonomyEntry[]
}

export interface TestsParts {
  verdict: () => string
  reports: () => string[]
  taxonomyRow: (entry: TaxonomyEntry) => string
  violations: () => string
  components: () => string
  remediation: () => string
}

const FOUNDATION_PREFIX = 'foundation:'

/** The table's order: what the foundation explains first, then the harness, then the rest. */
function tableGroup(category: string): 0 | 1 | 2 {
  return category.startsWith(FOUNDATION_PREFIX) ? 0 : category.startsWith('harness:') ? 1 : 2
}

/** The gate a foundation category blames, e.g. `runtime`; undefined for the others. */
function blamedGate(category: string): string | undefined {
  return category.startsWith(FOUNDATION_PREFIX) ? category.slice(FOUNDATION_PREFIX.length) : undefined
}

export function viewTests(tests: TestsReport): TestsView {
  // Each group keeps only as many as the table can show, so the rows are picked in one pass
  // without sorting (or even keeping) the hundred thousand it cannot.
  const groups: [TaxonomyEntry[], TaxonomyEntry[], TaxonomyEntry[]] = [[], [], []]
  const categories = new Map<Category, CategoryView>()
  // Many tests share a rule and its remediation: the summary says it once. By category and rule
  // id, then by the remediation text as it is (no key is built from it).
  const rules = new Map<string, Map<string, RuleView>>()
  for (const entry of tests.taxonomy) {
    const group = groups[tableGroup(entry.category)]
    if (group.length < TAXONOMY_TABLE_ROWS) group.push(entry)
    const category = entryOf(categories, entry.category, () => ({ category: entry.category, count: 0, rules: [] }))
    category.count++
    const sameRule = entryOf(rules, `${entry.category}\n${entry.rule}`, () => new Map<string, RuleView>())
    const rule = entryOf(sameRule, entry.remediation, () => {
      const added = { rule: entry.rule, remediation: entry.remediation, count: 0, examples: [] }
      category.rules.push(added)
      return added
    })
    rule.count++
    if (rule.examples.length < REMEDIATION_EXAMPLES) rule.examples.push(entry)
  }
  return {
    tests,
    rows: groups.flat().slice(0, TAXONOMY_TABLE_ROWS),
    categories: [...categories.values()].sort((a, b) => categoryRank(a.category) - categoryRank(b.category))
  }
}

export function testsParts(view: TestsView, gateCount: number): TestsParts {
  return {
    verdict: once(() => testsConclusion(view.tests.verdict)),
    reports: once(() => reportLines(view.tests)),
    taxonomyRow: memoize(taxonomyRow),
    violations: once(() => violationsLine(view, gateCount)),
    components: once(() => componentsTable(view.tests)),
    remediation: once(() => remediationSection(view))
  }
}

export function* testsBlocks(view: TestsView, parts: TestsParts, cuts: Pick<Cuts, 'taxonomyRows' | 'remediationOmitted'>): Generator<Block> {
  yield ['### Failure taxonomy']
  const verdict = parts.verdict()
  if (verdict !== '') yield [verdict]
  yield parts.reports()
  const failing = view.tests.failed
  if (failing === 0) {
    yield ['No test failed or errored.']
  } else {
    const rows = view.rows.slice(0, cuts.taxonomyRows)
    yield lazyTable(['Test', 'Type', 'Gate violated?', 'Root-cause category'], rows, parts.taxonomyRow)
    if (rows.length < failing) {
      yield [
        view.tests.taxonomyOmitted
          ? `… and ${countOf(failing - rows.length, 'more failing test')} (the first ${formatCount(view.tests.taxonomy.length)} are in the JSON report; the rest are only counted).`
          : `… and ${countOf(failing - rows.length, 'more failing test')} (all of them are in the JSON report and the \`taxonomy\` output).`
      ]
    }
    yield [parts.violations()]
  }
  if (view.tests.components.length > 0) {
    yield ['#### Test vs foundation distinction']
    yield [parts.components()]
  }
  if (view.categories.length > 0 && !cuts.remediationOmitted) yield [parts.remediation()]
}

/** The analysis's closing sentence, as the section's lead: "**Foundation green, test suite red: …**". */
function testsConclusion(verdict: string): string {
  const text = inlineMarkdown(clipCharacters(verdict.charAt(0).toUpperCase() + verdict.slice(1), REMEDIATION_CHARS))
  return text === '' ? '' : `**${text}**`
}

/** What was read, in one line, then each glob that matched nothing and each file that was no use. */
function reportLines(tests: TestsReport): string[] {
  const { files, totals } = tests
  const read = files.filter((file) => file.status === 'ok').length
  const outcomes = [
    `${formatCount(totals.passed)} passed`,
    `${formatCount(totals.failed)} failed`,
    `${formatCount(totals.errored)} errored`,
    `${formatCount(totals.skipped)} skipped`,
    ...(totals.xfailed > 0 ? [`${formatCount(totals.xfailed)} xfailed`] : []),
    ...(totals.xpassed > 0 ? [`${formatCount(totals.xpassed)} xpassed`] : [])
  ]
  const summary =
    files.length === 0
      ? '**JUnit reports:** no file matched.'
      : `**JUnit reports:** ${formatCount(read)} of ${countOf(files.length, 'file')} read, ${countOf(totals.cases, 'test case')}: ${outcomes.join(', ')}.`
  const findings = [
    ...namedAtMost(
      tests.unmatched,
      REPORT_FINDINGS_SHOWN,
      (pattern) => `- ⚠️ No file matched ${inlineCode(oneLine(pattern))}${lookedIn(tests.searched)}.`,
      (more) => `- … and ${countOf(more, 'more glob')} that matched no file.`
    ),
    ...namedAtMost(
      tests.fromWorkspace ?? [],
      REPORT_FINDINGS_SHOWN,
      (pattern) =>
        `- ℹ️ ${inlineCode(oneLine(pattern))} matched no file in working-directory; it was resolved from the workspace${tests.searched?.[1] ? ` (${inlineCode(oneLine(tests.searched[1]))})` : ''}.`,
      (more) => `- … and ${countOf(more, 'more glob')} resolved from the workspace.`
    ),
    ...namedAtMost(
      files.filter((file) => file.status !== 'ok'),
      REPORT_FINDINGS_SHOWN,
      ({ path, status, detail }) => {
        const why = inlineMarkdown(oneLine(detail ?? ''))
        return `- ⚠️ ${inlineCode(oneLine(path))} ${describeReportStatus(status)}${why === '' ? '' : `: ${why}`}.`
      },
      (more) => `- … and ${countOf(more, 'more file')} that could not be used.`
    )
  ]
  return findings.length === 0 ? [summary] : [summary, '', ...findings]
}

function taxonomyRow(entry: TaxonomyEntry): string {
  return tableRow([testId(entry), describeFailureType(entry), gateViolated(entry.category), inlineCode(oneLine(entry.category))])
}

/** `classname::name`, as pytest writes a test's id, in code when that is safe. */
function testId({ classname, name }: TaxonomyEntry): string {
  return inlineCode(oneLine(classname === '' ? name : `${classname}::${name}`))
}

// A violated gate is red like the gate's own ❌ FAIL in the matrix; a failure the foundation
// does not explain leaves the gates green, and one no rule explains is not attributed at all.
function gateViolated(category: string): string {
  const gate = blamedGate(category)
  if (gate !== undefined) return `❌ Yes: ${inlineCode(oneLine(gate))}`
  return tableGroup(category) === 1 ? '✅ No' : '❔ Unknown'
}

/** "Total foundation gate violations: 1 / 9 foundation gates: `runtime` (5 failing tests)." */
function violationsLine({ categories }: TestsView, gateCount: number): string {
  // The categories are distinct, and so are the gates they blame.
  const blamed = categories.flatMap(({ category, count }) => {
    const gate = blamedGate(category)
    return gate === undefined ? [] : [`${inlineCode(oneLine(gate))} (${countOf(count, 'failing test')})`]
  })
  const headline = `**Total foundation gate violations: ${formatCount(blamed.length)} / ${countOf(gateCount, 'foundation gate')}**`
  return blamed.length === 0 ? `${headline} — no failing test is attributed to the foundation.` : `${headline}: ${blamed.join(', ')}.`
}

function componentsTable({ components }: TestsReport): string {
  const rows = components.map(({ component, kind, status, evidence }) => [
    `**${escapeTableCell(oneLine(component))}** (${kind === 'tests' ? 'tests' : 'foundation'})`,
    componentBadge(status),
    inlineMarkdown(oneLine(evidence)) || '—'
  ])
  return markdownTable(['Component', 'Status', 'Evidence'], rows)
}

function remediationSection({ tests, categories }: TestsView): string {
  const failing = tests.taxonomy.length
  const summary = `Remediation by category (${countOf(failing, 'failing test')} in ${countOf(categories.length, 'category', 'categories')})`
  const source = tests.rulesFile === undefined ? [] : [`Rules from ${inlineCode(oneLine(tests.rulesFile))} come first, then the shipped ones.`]
  return detailsBlock(escapeHtmlLine(summary), [...source, ...categories.flatMap(categoryRemediation)].join('\n\n'))
}

function categoryRemediation({ category, count, rules }: CategoryView): string[] {
  return [
    `#### ${inlineCode(oneLine(category))}: ${countOf(count, 'failing test')}`,
    ...namedAtMost(
      rules,
      REMEDIATION_RULES,
      (rule) => ruleRemediation(rule, rules.length > 1),
      (more) => `… and ${countOf(more, 'more rule')} (see the JSON report).`
    )
  ]
}

function ruleRemediation({ rule, remediation, count, examples }: RuleView, severalRules: boolean): string {
  const tally = severalRules ? ` (${countOf(count, 'failing test')})` : ''
  const advice = `Rule ${inlineCode(oneLine(rule))}${tally}: ${inlineMarkdown(clipCharacters(remediation, REMEDIATION_CHARS))}`
  const named = examples.map((entry) => `- ${testId(entry)}: ${inlineCode(oneLine(entry.evidence)) || '—'}`)
  const more = count - examples.length
  return [advice, '', ...named, ...(more > 0 ? [`- … and ${countOf(more, 'more failing test')}`] : [])].join('\n')
}

/** ` (looked in `a` and `b`)`: where an unmatched glob was looked for, when the report says. */
function lookedIn(searched: readonly string[] | undefined): string {
  if (!searched?.length) return ''
  return ` (looked in ${searched.map((dir) => inlineCode(oneLine(dir))).join(' and ')})`
}
