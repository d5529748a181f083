// The job summary: a pure function of the run report. GitHub drops a step summary over 1 MiB
// entirely (it does not truncate it), so the rendering is fitted to a byte budget here, where
// it is known what may be left out and the reader can be told.
import type { Category, TaxonomyEntry, TestsReport } from '../taxonomy/model.js'
import type { GateResult, RunReport, Timings, WorkerInfo } from './model.js'
import {
  detailsBlock,
  escapeHtmlLine,
  escapeTableCell,
  inlineCode,
  preBlock,
  stripControlCharacters,
  truncateUtf8,
  utf8ByteLength
} from './escape.js'
import {
  categoryRank,
  componentBadge,
  describeFailureType,
  describeGateOutcome,
  describeInterruption,
  describeReportStatus,
  nameIds,
  statusBadge,
  statusCell
} from './status.js'

/** Under GitHub's 1 MiB (1,048,576 bytes) per step, with room for whatever else the step adds. */
export const DEFAULT_SUMMARY_BUDGET_BYTES = 1_000_000

const SUMMARY_TITLE = 'Celery foundation gates'

/**
 * Evidence is meant to be a few short lines; a gate that puts a log line or a list in it would
 * make its matrix row tower over the others. The matrix shows at most this many lines of this
 * many characters, and the gate's details section then shows the evidence in full.
 */
export const EVIDENCE_CELL_LINES = 6
export const EVIDENCE_CELL_LINE_CHARS = 200

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

/** UTF-16 units of outside text read for one bounded line: room for escapes the line drops. */
const ONE_LINE_READ = EVIDENCE_CELL_LINE_CHARS * 8

/**
 * Which part of the summary to render. `all`: the job summary. `matrix`: its head (title,
 * verdict, interruption, gate matrix), for a pull-request comment or a check run's summary.
 * `details`: the rest (failure taxonomy, gate details, worker log, timings, run), for a check
 * run's text.
 */
export type SummarySections = 'all' | 'matrix' | 'details'

export interface SummaryOptions {
  /** The most UTF-8 bytes the summary may take; the result never exceeds it. */
  budgetBytes?: number
  /** The part to render; `all` by default. */
  sections?: SummarySections
  /** How the trim notice names the limit ("GitHub's limit for a check run's text"); by default the budget. */
  limitName?: string
}

/** What one call renders, and how its trim notice names it and its limit. */
interface Frame {
  sections: SummarySections
  budgetBytes: number
  /** "Summary", "Matrix" or "Details": what the notice says was trimmed. */
  subject: string
  limit: string
}

const SECTION_SUBJECTS: Readonly<Record<SummarySections, string>> = { all: 'Summary', matrix: 'Matrix', details: 'Details' }

/** What the summary leaves out to fit its budget. */
interface Cuts {
  /** Worker log lines kept, counted from the end; all when undefined, no section when 0. */
  logLines?: number
  /** Indexes of the gates whose details section is left out. */
  detailsOmitted: ReadonlySet<number>
  runOmitted: boolean
  /** UTF-8 bytes kept of each evidence cell and of the interruption message. */
  outsideTextBytes?: number
  /** How many gates the matrix shows, from the top; all when undefined. */
  gatesShown?: number
  /** How many rows the failure taxonomy table shows; all it has room for when undefined. */
  taxonomyRows?: number
  remediationOmitted: boolean
}

const NOTHING_LEFT_OUT: Cuts = { detailsOmitted: new Set(), runOmitted: false, remediationOmitted: false }

/**
 * One kind of cut: the least of it that makes the summary fit with the other cuts as they are,
 * or all of it when nothing does. It ignores how far `cuts` already went in its own kind, so
 * running it again can also give room back.
 */
type TrimStep = (summary: Summary, cuts: Cuts, fits: (candidate: Cuts) => boolean) => Cuts

/** The report with what the summary derives from each gate and the tests, worked out once per render. */
interface Summary {
  report: RunReport
  gates: readonly GateView[]
  tests?: TestsView
}

interface GateView {
  gate: GateResult
  /** The evidence as the matrix shows it: bounded to a few short lines. */
  cellEvidence: string
  /** Whether `cellEvidence` leaves something out, so the details section shows it all. */
  evidenceShortened: boolean
  /** Whether the gate gets a collapsible details section, and its size for the trimming. */
  hasSection: boolean
  sectionBytes: number
}

/** The failure taxonomy as the summary shows it: one pass over the entries, however many. */
interface TestsView {
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

// The order is the priority: what a reviewer misses least goes first. Each step cuts in one
// part, and only the steps for the parts being rendered run: a cut elsewhere frees no room.
const TRIM_STEPS: ReadonlyArray<{ part: Exclude<SummarySections, 'all'>; trim: TrimStep }> = [
  { part: 'details', trim: shortenWorkerLog },
  { part: 'details', trim: omitGateDetails },
  { part: 'details', trim: omitting('runOmitted') },
  { part: 'details', trim: shortenTaxonomyTable },
  { part: 'details', trim: omitting('remediationOmitted') },
  { part: 'matrix', trim: truncateOutsideText },
  { part: 'matrix', trim: dropTrailingGates }
]

/** Points in time, in ms since the run started; listed in the order they happened. */
const TIMING_MILESTONES: ReadonlyArray<readonly [Exclude<keyof Timings, 'roundTripMs' | 'totalMs'>, string]> = [
  ['probeMs', 'App probed'],
  ['workerReadyMs', 'Worker ready'],
  ['pingPublishedMs', 'Ping published'],
  ['pongMs', 'Pong received'],
  ['gatesMs', 'Gates checked'],
  ['workerStopMs', 'Worker stopped']
]

const STOP_DESCRIPTIONS: Readonly<Record<NonNullable<WorkerInfo['stop']>['how'], string>> = {
  warm: 'warm shutdown in',
  terminated: 'terminated by SIGTERM in',
  kept: 'kept running for the job (the post step stops it); released in',
  killed: 'killed after',
  'already-exited': 'had already exited; checked in',
  'not-started': 'never started; checked in'
}

/** The job summary (or the part of it `sections` names) in GitHub-flavoured markdown, at most `budgetBytes` of UTF-8. */
export function renderSummary(report: RunReport, options: SummaryOptions = {}): string {
  const frame = frameOf(options)
  const summary: Summary = { report, gates: report.gates.map(viewGate) }
  if (report.tests !== undefined) summary.tests = viewTests(report.tests)
  const parts = summaryParts(summary)
  const blocks = function* (cuts: Cuts): Generator<Block> {
    yield* summaryBlocks(summary, parts, cuts, frame.sections)
    yield* trimNotice(leftOut(summary, cuts), frame)
  }
  const fits = (cuts: Cuts): boolean => fitsInBytes(textPieces(blocks(cuts)), frame.budgetBytes)

  let cuts = NOTHING_LEFT_OUT
  const applied: TrimStep[] = []
  for (const { part, trim } of TRIM_STEPS) {
    if (fits(cuts)) break
    if (!rendersPart(frame.sections, part)) continue
    cuts = trim(summary, cuts, fits)
    applied.push(trim)
  }
  // A later cut can free more room than the earlier ones needed to take (a huge traceback
  // makes the whole log go first): give it back, to the most valuable content first.
  for (const trim of applied.slice(0, -1).reverse()) cuts = trim(summary, cuts, fits)
  return fits(cuts) ? joinBlocks(blocks(cuts)) : keepLeadingBlocks(summary, parts, cuts, frame)
}

function frameOf({ budgetBytes = DEFAULT_SUMMARY_BUDGET_BYTES, sections = 'all', limitName }: SummaryOptions): Frame {
  if (!Number.isFinite(budgetBytes) || budgetBytes < 0) {
    throw new RangeError(`budgetBytes must be a non-negative number of bytes, got ${budgetBytes}`)
  }
  const limit =
    limitName ??
    (budgetBytes === DEFAULT_SUMMARY_BUDGET_BYTES ? "GitHub's 1 MiB limit" : `a budget of ${formatCount(budgetBytes)} bytes`)
  return { sections, budgetBytes, subject: SECTION_SUBJECTS[sections], limit }
}

function rendersPart(sections: SummarySections, part: Exclude<SummarySections, 'all'>): boolean {
  return sections === 'all' || sections === part
}

function viewGate(gate: GateResult): GateView {
  const { text: cellEvidence, shortened: evidenceShortened } = boundEvidence(gate.evidence)
  const sectionBytes =
    utf8ByteLength(detailsOf(gate) ?? '') + (evidenceShortened ? utf8ByteLength(gate.evidence) : 0)
  const hasSection = detailsOf(gate) !== undefined || evidenceShortened
  return { gate, cellEvidence, evidenceShortened, hasSection, sectionBytes }
}

/** The gate's details, unless it has none worth a section. */
function detailsOf(gate: GateResult): string | undefined {
  return gate.details !== undefined && gate.details.trim() !== '' ? gate.details : undefined
}

/** The first `EVIDENCE_CELL_LINES` lines of the evidence, each cut to `EVIDENCE_CELL_LINE_CHARS`. */
function boundEvidence(evidence: string): { text: string; shortened: boolean } {
  const lines = stripControlCharacters(evidence).trim().split('\n')
  const shown = lines.slice(0, EVIDENCE_CELL_LINES).map((line) => clipCharacters(line, EVIDENCE_CELL_LINE_CHARS))
  const hidden = lines.length - EVIDENCE_CELL_LINES
  if (hidden > 0) shown.push(`… ${countOf(hidden, 'more line')}`)
  const text = shown.join('\n')
  return { text, shortened: hidden > 0 || shown.some((line, index) => line !== lines[index]) }
}

/** At most `maxCharacters` code points of `text`; `…` replaces what is cut. */
export function clipCharacters(text: string, maxCharacters: number): string {
  if (sliceEnd(text, maxCharacters) === text.length) return text
  return `${text.slice(0, sliceEnd(text, maxCharacters - 1)).trimEnd()}…`
}

/** The UTF-16 index after the first `characters` code points of `text`. */
function sliceEnd(text: string, characters: number): number {
  let end = 0
  for (let count = 0; count < characters && end < text.length; count++) {
    end += (text.codePointAt(end) ?? 0) > 0xffff ? 2 : 1
  }
  return end
}

/**
 * The lines of one block of markdown. Blocks are made lazily, and the matrix row by row, so
 * that measuring a candidate stops at the budget instead of rendering megabytes of input.
 */
type Block = Iterable<string>

/**
 * The parts that stay the same while the cuts change, each rendered at most once per call:
 * fitting the budget measures many candidate summaries that share most of their text.
 */
interface SummaryParts {
  verdict: () => string
  interruption: (messageBytes: number | undefined) => string | undefined
  gateRow: (evidenceBytes: number | undefined) => (gate: GateView) => string
  gateDetails: (gate: GateView) => string
  run: () => string
  tests?: TestsParts
}

interface TestsParts {
  verdict: () => string
  reports: () => string[]
  taxonomyRow: (entry: TaxonomyEntry) => string
  violations: () => string
  components: () => string
  remediation: () => string
}

function summaryParts({ report, tests }: Summary): SummaryParts {
  return {
    // The denominator is the foundation gates of this run: only those can be violated.
    ...(tests === undefined ? {} : { tests: testsParts(tests, report.gates.filter((g) => g.foundation).length) }),
    verdict: once(() => verdictSentence(report)),
    interruption: memoize((messageBytes: number | undefined) =>
      interruptionCallout(report.interrupted, messageBytes)
    ),
    gateRow: memoize((evidenceBytes: number | undefined) =>
      memoize((gate: GateView) => gateRow(gate, evidenceBytes))
    ),
    gateDetails: memoize(gateDetailsSection),
    run: once(() => runSection(report))
  }
}

function* summaryBlocks(summary: Summary, parts: SummaryParts, cuts: Cuts, sections: SummarySections): Generator<Block> {
  if (rendersPart(sections, 'matrix')) yield* matrixBlocks(summary, parts, cuts)
  if (rendersPart(sections, 'details')) yield* detailBlocks(summary, parts, cuts)
}

/** The head: what a reviewer reads first, and all that a pull-request comment shows. */
function* matrixBlocks({ gates }: Summary, parts: SummaryParts, cuts: Cuts): Generator<Block> {
  yield [`## ${SUMMARY_TITLE}`]
  yield [parts.verdict()]
  const interruption = parts.interruption(cuts.outsideTextBytes)
  if (interruption !== undefined) yield [interruption]
  const shownGates = gates.slice(0, cuts.gatesShown)
  if (shownGates.length > 0) {
    yield lazyTable(['Gate', 'Description', 'Status', 'Evidence'], shownGates, parts.gateRow(cuts.outsideTextBytes))
  }
}

/** Everything after the matrix: the failure taxonomy, each gate's details, the worker log, timings and the run. */
function* detailBlocks({ report, gates, tests }: Summary, parts: SummaryParts, cuts: Cuts): Generator<Block> {
  if (tests !== undefined && parts.tests !== undefined) yield* testsBlocks(tests, parts.tests, cuts)
  for (const [index, gate] of gates.entries()) {
    if (gate.hasSection && !cuts.detailsOmitted.has(index)) yield [parts.gateDetails(gate)]
  }
  const { worker } = report
  if (worker !== undefined && worker.logTail.length > 0 && cuts.logLines !== 0) {
    yield [workerLogSection(worker, cuts.logLines)]
  }
  yield [timingsSection(report.timings)]
  if (!cuts.runOmitted) yield [parts.run()]
}

function once<T>(compute: () => T): () => T {
  let result: { value: T } | undefined
  return () => (result ??= { value: compute() }).value
}

function memoize<K, V>(compute: (key: K) => V): (key: K) => V {
  const cache = new Map<K, { value: V }>()
  return (key) => entryOf(cache, key, () => ({ value: compute(key) })).value
}

/** The map's value for the key, made and added first if there is none. */
function entryOf<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key)
  if (value === undefined) {
    value = make()
    map.set(key, value)
  }
  return value
}

/** The text as pieces whose concatenation it is: blocks apart by a blank line, a final newline. */
function* textPieces(blocks: Iterable<Block>): Generator<string> {
  let separator = ''
  for (const block of blocks) {
    for (const line of block) {
      yield separator + line
      separator = '\n'
    }
    separator = '\n\n'
  }
  if (separator !== '') yield '\n'
}

function fitsInBytes(pieces: Iterable<string>, budgetBytes: number): boolean {
  let usedBytes = 0
  for (const piece of pieces) {
    usedBytes += utf8ByteLength(piece)
    if (usedBytes > budgetBytes) return false
  }
  return true
}

function joinBlocks(blocks: Iterable<Block>): string {
  return [...textPieces(blocks)].join('')
}

function verdictSentence(report: RunReport): string {
  return `**Verdict: ${statusBadge(report.verdict)}** — ${describeGateOutcome(report.gates, inlineCode)}.`
}

function interruptionCallout(interrupted: RunReport['interrupted'], maxBytes: number | undefined): string | undefined {
  if (interrupted === undefined) return undefined
  const message = inlineMarkdown(capText(interrupted.message, maxBytes))
  return `> 🛑 **Run interrupted: ${describeInterruption(interrupted.kind)}.** ${message}`.trimEnd()
}

/** A table whose rows are rendered only as far as the reader of the lines gets. */
function* lazyTable<T>(headers: readonly string[], items: Iterable<T>, row: (item: T) => string): Generator<string> {
  yield* tableHeader(headers)
  for (const item of items) yield row(item)
}

function gateRow({ gate, cellEvidence }: GateView, evidenceBytes: number | undefined): string {
  return tableRow([
    `**${escapeTableCell(gate.title)}** ${inlineCode(gate.id)}`,
    inlineMarkdown(gate.description),
    statusCell(gate.status),
    inlineMarkdown(capText(cellEvidence, evidenceBytes)) || '—'
  ])
}

function gateDetailsSection({ gate, evidenceShortened }: GateView): string {
  const summary = `${statusBadge(gate.status)} ${escapeHtmlLine(gate.title)} (<code>${escapeHtmlLine(gate.id)}</code>): details`
  const details = detailsOf(gate)
  const body = !evidenceShortened
    ? [preBlock(details ?? '')]
    : [
        'Evidence in full (shortened in the table):',
        preBlock(gate.evidence),
        ...(details === undefined ? [] : ['Details:', preBlock(details)])
      ]
  // A failure's details are the first thing a reader wants; the rest stays folded.
  return detailsBlock(summary, body.join('\n\n'), { open: gate.status === 'fail' })
}

// Code spans: a backtick, then at least one character that is neither a backtick nor a line
// break and not only spaces, then a backtick.
const CODE_SPAN = /(`[^`\n]*[^`\s][^`\n]*`)/

/**
 * Outside text as one line of inline markdown, like `escapeTableCell`, except that `code` spans
 * (which gates use for ids, inputs and module names) stay code: each is shown with `inlineCode`,
 * which keeps it verbatim only when that is safe, and everything around it is escaped.
 */
export function inlineMarkdown(text: string): string {
  const pieces = stripControlCharacters(text).trim().split(CODE_SPAN)
  if (pieces.length === 1) return escapeTableCell(pieces[0] ?? '')
  return pieces
    .map((piece, index) => (index % 2 === 1 ? inlineCode(piece.slice(1, -1).trim()) : escapeKeepingEdges(piece)))
    .join('')
}

/** `escapeTableCell` without the trim: the space next to a code span is part of the sentence. */
function escapeKeepingEdges(text: string): string {
  const [, leading = '', body = '', trailing = ''] = /^(\s*)([\s\S]*?)(\s*)$/.exec(text) ?? []
  const edge = (space: string): string => (space === '' ? '' : space.includes('\n') ? '<br>' : ' ')
  return `${edge(leading)}${escapeTableCell(body)}${edge(trailing)}`
}

// ---- the failure taxonomy ----

const FOUNDATION_PREFIX = 'foundation:'

/** The table's order: what the foundation explains first, then the harness, then the rest. */
function tableGroup(category: string): 0 | 1 | 2 {
  return category.startsWith(FOUNDATION_PREFIX) ? 0 : category.startsWith('harness:') ? 1 : 2
}

/** The gate a foundation category blames, e.g. `runtime`; undefined for the others. */
function blamedGate(category: string): string | undefined {
  return category.startsWith(FOUNDATION_PREFIX) ? category.slice(FOUNDATION_PREFIX.length) : undefined
}

function viewTests(tests: TestsReport): TestsView {
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

function testsParts(view: TestsView, gateCount: number): TestsParts {
  return {
    verdict: once(() => testsVerdict(view.tests.verdict)),
    reports: once(() => reportLines(view.tests)),
    taxonomyRow: memoize(taxonomyRow),
    violations: once(() => violationsLine(view, gateCount)),
    components: once(() => componentsTable(view.tests)),
    remediation: once(() => remediationSection(view))
  }
}

function* testsBlocks(view: TestsView, parts: TestsParts, cuts: Cuts): Generator<Block> {
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
function testsVerdict(verdict: string): string {
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
      (pattern) => `- ⚠️ No file matched ${inlineCode(oneLine(pattern))}.`,
      (more) => `- … and ${countOf(more, 'more glob')} that matched no file.`
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

/** The first `max` items as lines, then one line saying how many more there are. */
function namedAtMost<T>(items: readonly T[], max: number, line: (item: T) => string, more: (count: number) => string): string[] {
  const lines = items.slice(0, max).map(line)
  return items.length > max ? [...lines, more(items.length - max)] : lines
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
  return blamed.length === 0
    ? `${headline} — no failing test is attributed to the foundation.`
    : `${headline}: ${blamed.join(', ')}.`
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
  const source =
    tests.rulesFile === undefined ? [] : [`Rules from ${inlineCode(oneLine(tests.rulesFile))} come first, then the shipped ones.`]
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

/**
 * Outside text as one line of at most `EVIDENCE_CELL_LINE_CHARS` (for an id, a path, an evidence
 * line), line breaks folded. Only a prefix is read, so a megabyte-long name costs no more than a
 * short one.
 */
function oneLine(text: string): string {
  const read = text.length > ONE_LINE_READ ? text.slice(0, ONE_LINE_READ) : text
  const line = stripControlCharacters(read).replace(/\s*\n\s*/g, ' ').trim()
  const clipped = clipCharacters(line, EVIDENCE_CELL_LINE_CHARS)
  // What escapes and control characters took from the prefix read can leave it short of the
  // limit: it is still cut, and says so.
  return read !== text && clipped === line ? `${line}…` : clipped
}

function workerLogSection(worker: WorkerInfo, logLines: number | undefined): string {
  const lines = logLines === undefined ? worker.logTail : worker.logTail.slice(-logLines)
  return detailsBlock(
    `Worker log (last ${formatCount(lines.length)} lines)`,
    `${whereIsTheFullLog(worker)}\n\n${preBlock(lines.join('\n'))}`
  )
}

function whereIsTheFullLog(worker: WorkerInfo): string {
  const size = `${formatCount(worker.logBytes)} bytes${worker.logTruncated ? ', cut at its size limit' : ''}`
  return worker.logFile === undefined
    ? `No log file was kept (the worker printed ${size}).`
    : `Full log: ${inlineCode(worker.logFile)} (${size}).`
}

function timingsSection(timings: Timings): string {
  const milestones = TIMING_MILESTONES.flatMap(([key, label]) => {
    const ms = timings[key]
    return ms === undefined ? [] : [{ label, ms }]
  })
  // In the order they happened (a ping can be published before the worker is ready); the sort
  // is stable, so equal times keep the order of the list.
  const rows = milestones.sort((a, b) => a.ms - b.ms).map(({ label, ms }) => [label, formatCount(ms)])
  const table = markdownTable(['Milestone', 'ms'], [...rows, ['Total', formatCount(timings.totalMs)]])
  const roundTrip =
    timings.roundTripMs === undefined ? [] : [`The ping's round trip took ${formatCount(timings.roundTripMs)} ms.`]
  return detailsBlock(
    `Timings (total ${formatCount(timings.totalMs)} ms)`,
    ['Milliseconds since the run started.', table, ...roundTrip].join('\n\n')
  )
}

function runSection(report: RunReport): string {
  const facts = markdownTable(['Field', 'Value'], presentRows(runFacts(report)))
  const settingRows = Object.entries(report.settings).map(([name, value]) => [
    inlineCode(name),
    value === '' ? '_(empty)_' : inlineCode(value)
  ])
  const settings = settingRows.length === 0 ? [] : [markdownTable(['Input', 'Value'], settingRows)]
  return detailsBlock(`Run <code>${escapeHtmlLine(report.runId)}</code>`, [facts, ...settings].join('\n\n'))
}

function runFacts(report: RunReport): Array<readonly [string, string | undefined]> {
  const { worker, ping, versions } = report
  return [
    ['Run id', inlineCode(report.runId)],
    ['Tool', escapeTableCell(`${report.tool.name} ${report.tool.version}`)],
    ['Started', escapeTableCell(report.startedAt)],
    ['Finished', escapeTableCell(report.finishedAt)],
    ['Fail on', inlineCode(report.failOn)],
    ['Worker node', optional(worker?.nodeName, inlineCode)],
    ['Queue', optional(worker?.queue, inlineCode)],
    ['Worker pid', optional(worker?.pid, String)],
    ['Worker command', optional(worker?.argv.join(' '), inlineCode)],
    ['Worker exit', optional(worker?.exit, describeExit)],
    ['Worker stop', optional(worker?.stop, (stop) => `${STOP_DESCRIPTIONS[stop.how]} ${formatCount(stop.ms)} ms`)],
    ['Ping task', optional(ping?.task, inlineCode)],
    ['Ping task id', optional(ping?.taskId, inlineCode)],
    ['Ping status', optional(ping?.status, escapeTableCell)],
    ['Ping result', optional(ping?.result, inlineCode)],
    ['Ping round trip', optional(ping?.roundTripMs, (ms) => `${formatCount(ms)} ms`)],
    ['Broker trace', optional(report.trace, describeTrace)],
    ['Python', optional(versions.python, escapeTableCell)],
    ['Celery', optional(versions.celery, escapeTableCell)],
    ['Kombu', optional(versions.kombu, escapeTableCell)],
    ['SQLAlchemy', optional(versions.sqlalchemy, escapeTableCell)],
    ['Node', escapeTableCell(versions.node)],
    ['Action', escapeTableCell(versions.action)]
  ]
}

function describeExit(exit: NonNullable<WorkerInfo['exit']>): string {
  const how = exit.signal !== null ? `signal ${escapeTableCell(exit.signal)}` : `code ${exit.code ?? 'unknown'}`
  return `exited with ${how} after ${formatCount(exit.afterMs)} ms`
}

function describeTrace(trace: NonNullable<RunReport['trace']>): string {
  // The detail says what was removed or left ("removed the run's ping message…"), so the
  // outcome is given in other words than the detail's own.
  const outcome = trace.removed ? 'cleaned up' : trace.detail.startsWith('removed ') ? 'partly cleaned up' : 'not cleaned up'
  const detail = escapeTableCell(trace.detail)
  return detail === '' ? outcome : `${outcome} — ${detail}`
}

function optional<T>(value: T | undefined, format: (value: T) => string): string | undefined {
  return value === undefined || value === '' ? undefined : format(value)
}

function presentRows(rows: ReadonlyArray<readonly [string, string | undefined]>): string[][] {
  return rows.flatMap(([label, value]) => (value === undefined ? [] : [[label, value]]))
}

/** Cells must already be escaped. */
function markdownTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return [...tableHeader(headers), ...rows.map(tableRow)].join('\n')
}

function tableHeader(headers: readonly string[]): string[] {
  return [tableRow(headers), tableRow(headers.map(() => '---'))]
}

function tableRow(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`
}

function capText(text: string, maxBytes: number | undefined): string {
  return maxBytes === undefined || utf8ByteLength(text) <= maxBytes ? text : `${truncateUtf8(text, maxBytes)}…`
}

function formatCount(value: number): string {
  return String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** "1 failing test", "2,000 failing tests". */
function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${formatCount(count)} ${count === 1 ? singular : plural}`
}

// ---- fitting the budget ----

function shortenWorkerLog({ report }: Summary, cuts: Cuts, fits: (candidate: Cuts) => boolean): Cuts {
  const total = report.worker?.logTail.length ?? 0
  return { ...cuts, logLines: largestFitting(total, (logLines) => fits({ ...cuts, logLines })) ?? 0 }
}

function omitGateDetails({ gates }: Summary, cuts: Cuts, fits: (candidate: Cuts) => boolean): Cuts {
  // Smallest first, so keeping the first k of them and omitting the rest drops the largest.
  const bySize = gates
    .flatMap((gate, index) => (gate.hasSection ? [{ index, bytes: gate.sectionBytes }] : []))
    .sort((a, b) => a.bytes - b.bytes)
    .map(({ index }) => index)
  const omittingAllBut = (kept: number): Cuts => ({ ...cuts, detailsOmitted: new Set(bySize.slice(kept)) })
  return omittingAllBut(largestFitting(bySize.length, (kept) => fits(omittingAllBut(kept))) ?? 0)
}

/** The cut that leaves out a whole section, when the summary does not fit with it. */
function omitting(section: 'runOmitted' | 'remediationOmitted'): TrimStep {
  return (_summary, cuts, fits) => {
    const kept = { ...cuts, [section]: false }
    return fits(kept) ? kept : { ...cuts, [section]: true }
  }
}

function shortenTaxonomyTable({ tests }: Summary, cuts: Cuts, fits: (candidate: Cuts) => boolean): Cuts {
  const rows = tests?.rows.length ?? 0
  const taxonomyRows = largestFitting(rows, (shown) => fits({ ...cuts, taxonomyRows: shown })) ?? 0
  return { ...cuts, taxonomyRows: taxonomyRows < rows ? taxonomyRows : undefined }
}

function truncateOutsideText(summary: Summary, cuts: Cuts, fits: (candidate: Cuts) => boolean): Cuts {
  const longest = outsideTexts(summary).reduce((most, text) => Math.max(most, utf8ByteLength(text)), 0)
  const outsideTextBytes = largestFitting(longest, (bytes) => fits({ ...cuts, outsideTextBytes: bytes })) ?? 0
  // Undefined when nothing is cut, so the notice can tell without measuring every text again.
  return { ...cuts, outsideTextBytes: outsideTextBytes < longest ? outsideTextBytes : undefined }
}

function dropTrailingGates({ gates }: Summary, cuts: Cuts, fits: (candidate: Cuts) => boolean): Cuts {
  const gatesShown = largestFitting(gates.length, (shown) => fits({ ...cuts, gatesShown: shown })) ?? 0
  return { ...cuts, gatesShown }
}

/** The texts `outsideTextBytes` caps: every evidence cell and the interruption message. */
function outsideTexts({ report, gates }: Summary): string[] {
  return [...gates.map((gate) => gate.cellEvidence), report.interrupted?.message ?? '']
}

/** The largest n in 0..max for which `fitsWith(n)` holds, given it holds for all smaller n too. */
function largestFitting(max: number, fitsWith: (n: number) => boolean): number | undefined {
  if (!fitsWith(0)) return undefined
  let low = 0
  let high = max
  while (low < high) {
    const middle = Math.ceil((low + high) / 2)
    if (fitsWith(middle)) low = middle
    else high = middle - 1
  }
  return low
}

/** The last resort, for budgets too small for even the trimmed summary: whole blocks, in order. */
function keepLeadingBlocks(summary: Summary, parts: SummaryParts, cuts: Cuts, frame: Frame): string {
  const notice = trimNotice([...leftOut(summary, cuts), `the rest of the ${frame.subject.toLowerCase()}`], frame)
  const kept: Block[] = []
  for (const block of summaryBlocks(summary, parts, cuts, frame.sections)) {
    const lines = [...block]
    if (!fitsInBytes(textPieces([...kept, lines, ...notice]), frame.budgetBytes)) break
    kept.push(lines)
  }
  return truncateUtf8(joinBlocks([...kept, ...notice]), frame.budgetBytes)
}

/** What the cuts leave out, one phrase each, for the notice at the end of the summary. */
function leftOut({ report, tests }: Summary, cuts: Cuts): string[] {
  const { worker, gates } = report
  const phrases: string[] = []
  const logTotal = worker?.logTail.length ?? 0
  if (cuts.logLines !== undefined && cuts.logLines < logTotal) {
    const fullLog = worker?.logFile === undefined ? '' : ` (full log: ${inlineCode(worker.logFile)})`
    phrases.push(
      cuts.logLines === 0
        ? `worker log omitted${fullLog}`
        : `worker log shortened to ${formatCount(cuts.logLines)} of ${formatCount(logTotal)} lines`
    )
  }
  if (cuts.detailsOmitted.size > 0) {
    const ids = gates.filter((_gate, index) => cuts.detailsOmitted.has(index)).map((gate) => gate.id)
    phrases.push(`details of ${nameIds(ids, inlineCode)} omitted`)
  }
  if (cuts.runOmitted) phrases.push('run section omitted')
  if (cuts.taxonomyRows !== undefined) {
    const rows = tests?.rows.length ?? 0
    phrases.push(`failure taxonomy table shortened to ${formatCount(cuts.taxonomyRows)} of ${countOf(rows, 'row')}`)
  }
  if (cuts.remediationOmitted) phrases.push('remediation by category omitted')
  if (cuts.outsideTextBytes !== undefined) {
    phrases.push(`evidence and messages cut to ${formatCount(cuts.outsideTextBytes)} bytes each`)
  }
  if (cuts.gatesShown !== undefined && cuts.gatesShown < gates.length) {
    phrases.push(`only the first ${formatCount(cuts.gatesShown)} of ${formatCount(gates.length)} gates shown`)
  }
  return phrases
}

function trimNotice(phrases: readonly string[], { subject, limit }: Frame): Block[] {
  if (phrases.length === 0) return []
  return [[`_${subject} trimmed to fit ${limit}: ${phrases.join('; ')}._`]]
}
