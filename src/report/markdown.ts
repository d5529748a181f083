// The job summary: a pure function of the run report. GitHub drops a step summary over 1 MiB
// entirely (it does not truncate it), so the rendering is fitted to a byte budget here, where
// it is known what may be left out and the reader can be told.
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
import { describeGateOutcome, describeInterruption, nameIds, statusBadge } from './status.js'

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

export interface SummaryOptions {
  /** The most UTF-8 bytes the summary may take; the result never exceeds it. */
  budgetBytes?: number
}

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
}

const NOTHING_LEFT_OUT: Cuts = { detailsOmitted: new Set(), runOmitted: false }

/**
 * One kind of cut: the least of it that makes the summary fit with the other cuts as they are,
 * or all of it when nothing does. It ignores how far `cuts` already went in its own kind, so
 * running it again can also give room back.
 */
type TrimStep = (summary: Summary, cuts: Cuts, fits: (candidate: Cuts) => boolean) => Cuts

/** The report with what the summary derives from each gate, worked out once per render. */
interface Summary {
  report: RunReport
  gates: readonly GateView[]
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

// The order is the priority: what a reviewer misses least goes first.
const TRIM_STEPS: readonly TrimStep[] = [
  shortenWorkerLog,
  omitGateDetails,
  omitRunSection,
  truncateOutsideText,
  dropTrailingGates
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
  killed: 'killed after',
  'already-exited': 'had already exited; checked in',
  'not-started': 'never started; checked in'
}

/** The job summary in GitHub-flavoured markdown, at most `budgetBytes` of UTF-8. */
export function renderSummary(report: RunReport, options: SummaryOptions = {}): string {
  const budgetBytes = options.budgetBytes ?? DEFAULT_SUMMARY_BUDGET_BYTES
  if (!Number.isFinite(budgetBytes) || budgetBytes < 0) {
    throw new RangeError(`budgetBytes must be a non-negative number of bytes, got ${budgetBytes}`)
  }
  const summary: Summary = { report, gates: report.gates.map(viewGate) }
  const parts = summaryParts(summary)
  const blocks = function* (cuts: Cuts): Generator<Block> {
    yield* summaryBlocks(summary, parts, cuts)
    yield* trimNotice(leftOut(report, cuts), budgetBytes)
  }
  const fits = (cuts: Cuts): boolean => fitsInBytes(textPieces(blocks(cuts)), budgetBytes)

  let cuts = NOTHING_LEFT_OUT
  const applied: TrimStep[] = []
  for (const trim of TRIM_STEPS) {
    if (fits(cuts)) break
    cuts = trim(summary, cuts, fits)
    applied.push(trim)
  }
  // A later cut can free more room than the earlier ones needed to take (a huge traceback
  // makes the whole log go first): give it back, to the most valuable content first.
  for (const trim of applied.slice(0, -1).reverse()) cuts = trim(summary, cuts, fits)
  return fits(cuts) ? joinBlocks(blocks(cuts)) : keepLeadingBlocks(summary, parts, cuts, budgetBytes)
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
  if (hidden > 0) shown.push(`… ${formatCount(hidden)} more line${hidden === 1 ? '' : 's'}`)
  const text = shown.join('\n')
  return { text, shortened: hidden > 0 || shown.some((line, index) => line !== lines[index]) }
}

/** At most `maxCharacters` code points of `text`; `…` replaces what is cut. */
function clipCharacters(text: string, maxCharacters: number): string {
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
}

function summaryParts({ report }: Summary): SummaryParts {
  return {
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

function* summaryBlocks({ report, gates }: Summary, parts: SummaryParts, cuts: Cuts): Generator<Block> {
  yield [`## ${SUMMARY_TITLE}`]
  yield [parts.verdict()]
  const interruption = parts.interruption(cuts.outsideTextBytes)
  if (interruption !== undefined) yield [interruption]
  const shownGates = gates.slice(0, cuts.gatesShown)
  if (shownGates.length > 0) yield gateMatrix(shownGates, parts.gateRow(cuts.outsideTextBytes))
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
  return (key) => {
    let entry = cache.get(key)
    if (entry === undefined) {
      entry = { value: compute(key) }
      cache.set(key, entry)
    }
    return entry.value
  }
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

function* gateMatrix(gates: readonly GateView[], gateRow: (gate: GateView) => string): Generator<string> {
  yield* tableHeader(['Gate', 'Description', 'Status', 'Evidence'])
  for (const gate of gates) yield gateRow(gate)
}

function gateRow({ gate, cellEvidence }: GateView, evidenceBytes: number | undefined): string {
  return tableRow([
    `**${escapeTableCell(gate.title)}** ${inlineCode(gate.id)}`,
    inlineMarkdown(gate.description),
    statusBadge(gate.status),
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
  const outcome = trace.removed ? 'cleaned up' : 'not cleaned up'
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

function omitRunSection(_summary: Summary, cuts: Cuts, fits: (candidate: Cuts) => boolean): Cuts {
  const kept = { ...cuts, runOmitted: false }
  return fits(kept) ? kept : { ...cuts, runOmitted: true }
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
function keepLeadingBlocks(summary: Summary, parts: SummaryParts, cuts: Cuts, budgetBytes: number): string {
  const notice = trimNotice([...leftOut(summary.report, cuts), 'the rest of the summary'], budgetBytes)
  const kept: Block[] = []
  for (const block of summaryBlocks(summary, parts, cuts)) {
    const lines = [...block]
    if (!fitsInBytes(textPieces([...kept, lines, ...notice]), budgetBytes)) break
    kept.push(lines)
  }
  return truncateUtf8(joinBlocks([...kept, ...notice]), budgetBytes)
}

/** What the cuts leave out, one phrase each, for the notice at the end of the summary. */
function leftOut(report: RunReport, cuts: Cuts): string[] {
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
  if (cuts.outsideTextBytes !== undefined) {
    phrases.push(`evidence and messages cut to ${formatCount(cuts.outsideTextBytes)} bytes each`)
  }
  if (cuts.gatesShown !== undefined && cuts.gatesShown < gates.length) {
    phrases.push(`only the first ${formatCount(cuts.gatesShown)} of ${formatCount(gates.length)} gates shown`)
  }
  return phrases
}

function trimNotice(phrases: readonly string[], budgetBytes: number): Block[] {
  if (phrases.length === 0) return []
  const limit =
    budgetBytes === DEFAULT_SUMMARY_BUDGET_BYTES
      ? "GitHub's 1 MiB limit"
      : `a budget of ${formatCount(budgetBytes)} bytes`
  return [[`_Summary trimmed to fit ${limit}: ${phrases.join('; ')}._`]]
}
