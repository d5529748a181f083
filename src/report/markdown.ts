// The job summary: a pure function of the run report. This file lays it out — title, verdict,
// gate matrix, each gate's details, worker log, timings, the run — as lazy blocks; budget.ts fits
// them to GitHub's 1 MiB (a summary over it is dropped entirely, not truncated), the failure
// taxonomy's sections are taxonomy-sections.ts's, and format.ts is the formatting kit they share.
import type { GateResult, RunReport, Timings, WorkerInfo } from './model.js'
import { type Block, type Cuts, type GateView, type Summary, type SummaryOptions, type SummarySections, fitToBudget, frameOf, rendersPart } from './budget.js'
import { detailsBlock, escapeHtmlLine, escapeTableCell, inlineCode, preBlock, stripControlCharacters, utf8ByteLength } from './escape.js'
import {
  EVIDENCE_CELL_LINE_CHARS,
  EVIDENCE_CELL_LINES,
  capText,
  clipCharacters,
  countOf,
  formatCount,
  inlineMarkdown,
  lazyTable,
  markdownTable,
  memoize,
  once,
  tableRow
} from './format.js'
import { describeGateOutcome, describeInterruption, statusBadge, statusCell } from './status.js'
import { type TestsParts, testsBlocks, testsParts, viewTests } from './taxonomy-sections.js'

// What the summary's callers and tests name, from the files that now hold it.
export { DEFAULT_SUMMARY_BUDGET_BYTES, type SummaryOptions, type SummarySections } from './budget.js'
export { EVIDENCE_CELL_LINE_CHARS, EVIDENCE_CELL_LINES, clipCharacters, inlineMarkdown } from './format.js'
export { REMEDIATION_CHARS, REMEDIATION_EXAMPLES, REMEDIATION_RULES, REPORT_FINDINGS_SHOWN, TAXONOMY_TABLE_ROWS } from './taxonomy-sections.js'

const SUMMARY_TITLE = 'Celery foundation gates'

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
/** The job summary (or the part of it `sections` names) in GitHub-flavoured markdown, at most `budgetBytes` of UTF-8. */
export function renderSummary(report: RunReport, options: SummaryOptions = {}): string {
  const frame = frameOf(options)
  const summary: Summary = { report, gates: report.gates.map(viewGate) }
  if (report.tests !== undefined) summary.tests = viewTests(report.tests)
  const parts = summaryParts(summary)
  return fitToBudget(summary, frame, (cuts) => summaryBlocks(summary, parts, cuts, frame.sections))
}

function viewGate(gate: GateResult): GateView {
  const { text: cellEvidence, shortened: evidenceShortened } = boundEvidence(gate.evidence)
  const sectionBytes = utf8ByteLength(detailsOf(gate) ?? '') + (evidenceShortened ? utf8ByteLength(gate.evidence) : 0)
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

function summaryParts({ report, tests }: Summary): SummaryParts {
  return {
    // The denominator is the foundation gates of this run: only those can be violated.
    ...(tests === undefined ? {} : { tests: testsParts(tests, report.gates.filter((g) => g.foundation).length) }),
    verdict: once(() => verdictSentence(report)),
    interruption: memoize((messageBytes: number | undefined) => interruptionCallout(report.interrupted, messageBytes)),
    gateRow: memoize((evidenceBytes: number | undefined) => memoize((gate: GateView) => gateRow(gate, evidenceBytes))),
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

function verdictSentence(report: RunReport): string {
  return `**Verdict: ${statusBadge(report.verdict)}** — ${describeGateOutcome(report.gates, inlineCode)}.`
}

function interruptionCallout(interrupted: RunReport['interrupted'], maxBytes: number | undefined): string | undefined {
  if (interrupted === undefined) return undefined
  const message = inlineMarkdown(capText(interrupted.message, maxBytes))
  return `> 🛑 **Run interrupted: ${describeInterruption(interrupted.kind)}.** ${message}`.trimEnd()
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
    : ['Evidence in full (shortened in the table):', preBlock(gate.evidence), ...(details === undefined ? [] : ['Details:', preBlock(details)])]
  // A failure's details are the first thing a reader wants; the rest stays folded.
  return detailsBlock(summary, body.join('\n\n'), { open: gate.status === 'fail' })
}

function workerLogSection(worker: WorkerInfo, logLines: number | undefined): string {
  const lines = logLines === undefined ? worker.logTail : worker.logTail.slice(-logLines)
  return detailsBlock(`Worker log (last ${formatCount(lines.length)} lines)`, `${whereIsTheFullLog(worker)}\n\n${preBlock(lines.join('\n'))}`)
}

function whereIsTheFullLog(worker: WorkerInfo): string {
  const size = `${formatCount(worker.logBytes)} bytes${worker.logTruncated ? ', cut at its size limit' : ''}`
  return worker.logFile === undefined ? `No log file was kept (the worker printed ${size}).` : `Full log: ${inlineCode(worker.logFile)} (${size}).`
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
  const roundTrip = timings.roundTripMs === undefined ? [] : [`The ping's round trip took ${formatCount(timings.roundTripMs)} ms.`]
  return detailsBlock(`Timings (total ${formatCount(timings.totalMs)} ms)`, ['Milliseconds since the run started.', table, ...roundTrip].join('\n\n'))
}

function runSection(report: RunReport): string {
  const facts = markdownTable(['Field', 'Value'], presentRows(runFacts(report)))
  const settingRows = Object.entries(report.settings).map(([name, value]) => [inlineCode(name), value === '' ? '_(empty)_' : inlineCode(value)])
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
