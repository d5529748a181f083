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
  truncateUtf8,
  utf8ByteLength
} from './escape.js'
import { describeGateOutcome, describeInterruption, nameIds, statusBadge } from './status.js'

/** Under GitHub's 1 MiB (1,048,576 bytes) per step, with room for whatever else the step adds. */
export const DEFAULT_SUMMARY_BUDGET_BYTES = 1_000_000

const SUMMARY_TITLE = 'Celery foundation gates'

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
type TrimStep = (report: RunReport, cuts: Cuts, fits: (candidate: Cuts) => boolean) => Cuts

// The order is the priority: what a reviewer misses least goes first.
const TRIM_STEPS: readonly TrimStep[] = [
  shortenWorkerLog,
  omitGateDetails,
  omitRunSection,
  truncateOutsideText,
  dropTrailingGates
]

const TIMING_MILESTONES: ReadonlyArray<readonly [keyof Timings, string]> = [
  ['probeMs', 'App probed'],
  ['workerReadyMs', 'Worker ready'],
  ['pingPublishedMs', 'Ping published'],
  ['pongMs', 'Pong received'],
  ['roundTripMs', 'Ping round trip (duration)'],
  ['gatesMs', 'Gates checked'],
  ['workerStopMs', 'Worker stopped'],
  ['totalMs', 'Total']
]

const STOP_DESCRIPTIONS: Readonly<Record<NonNullable<WorkerInfo['stop']>['how'], string>> = {
  warm: 'warm shutdown in',
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
  const parts = summaryParts(report)
  const blocks = function* (cuts: Cuts): Generator<Block> {
    yield* summaryBlocks(report, parts, cuts)
    yield* trimNotice(leftOut(report, cuts), budgetBytes)
  }
  const fits = (cuts: Cuts): boolean => fitsInBytes(textPieces(blocks(cuts)), budgetBytes)

  let cuts = NOTHING_LEFT_OUT
  const applied: TrimStep[] = []
  for (const trim of TRIM_STEPS) {
    if (fits(cuts)) break
    cuts = trim(report, cuts, fits)
    applied.push(trim)
  }
  // A later cut can free more room than the earlier ones needed to take (a huge traceback
  // makes the whole log go first): give it back, to the most valuable content first.
  for (const trim of applied.slice(0, -1).reverse()) cuts = trim(report, cuts, fits)
  return fits(cuts) ? joinBlocks(blocks(cuts)) : keepLeadingBlocks(report, parts, cuts, budgetBytes)
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
  gateRow: (evidenceBytes: number | undefined) => (gate: GateResult) => string
  gateDetails: (gate: GateWithDetails) => string
  run: () => string
}

function summaryParts(report: RunReport): SummaryParts {
  return {
    verdict: once(() => verdictSentence(report)),
    interruption: memoize((messageBytes: number | undefined) =>
      interruptionCallout(report.interrupted, messageBytes)
    ),
    gateRow: memoize((evidenceBytes: number | undefined) =>
      memoize((gate: GateResult) => gateRow(gate, evidenceBytes))
    ),
    gateDetails: memoize(gateDetailsSection),
    run: once(() => runSection(report))
  }
}

function* summaryBlocks(report: RunReport, parts: SummaryParts, cuts: Cuts): Generator<Block> {
  yield [`## ${SUMMARY_TITLE}`]
  yield [parts.verdict()]
  const interruption = parts.interruption(cuts.outsideTextBytes)
  if (interruption !== undefined) yield [interruption]
  const shownGates = report.gates.slice(0, cuts.gatesShown)
  if (shownGates.length > 0) yield gateMatrix(shownGates, parts.gateRow(cuts.outsideTextBytes))
  for (const [index, gate] of report.gates.entries()) {
    if (hasDetails(gate) && !cuts.detailsOmitted.has(index)) yield [parts.gateDetails(gate)]
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
  const message = escapeTableCell(capText(interrupted.message, maxBytes))
  return `> 🛑 **Run interrupted: ${describeInterruption(interrupted.kind)}.** ${message}`.trimEnd()
}

function* gateMatrix(gates: readonly GateResult[], gateRow: (gate: GateResult) => string): Generator<string> {
  yield* tableHeader(['Gate', 'Description', 'Status', 'Evidence'])
  for (const gate of gates) yield gateRow(gate)
}

function gateRow(gate: GateResult, evidenceBytes: number | undefined): string {
  return tableRow([
    `**${escapeTableCell(gate.title)}** ${inlineCode(gate.id)}`,
    escapeTableCell(gate.description),
    statusBadge(gate.status),
    escapeTableCell(capText(gate.evidence, evidenceBytes)) || '—'
  ])
}

function gateDetailsSection(gate: GateWithDetails): string {
  const summary = `${statusBadge(gate.status)} ${escapeHtmlLine(gate.title)} (<code>${escapeHtmlLine(gate.id)}</code>): details`
  // A failure's details are the first thing a reader wants; the rest stays folded.
  return detailsBlock(summary, preBlock(gate.details), { open: gate.status === 'fail' })
}

type GateWithDetails = GateResult & { details: string }

function hasDetails(gate: GateResult): gate is GateWithDetails {
  return gate.details !== undefined && gate.details.trim() !== ''
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
  const rows = TIMING_MILESTONES.flatMap(([key, label]) => {
    const ms = timings[key]
    return ms === undefined ? [] : [[label, formatCount(ms)]]
  })
  const table = markdownTable(['Milestone', 'ms'], rows)
  return detailsBlock(
    `Timings (total ${formatCount(timings.totalMs)} ms)`,
    `Milliseconds since the run started.\n\n${table}`
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
  return `${trace.removed ? 'removed' : 'left in place'}: ${escapeTableCell(trace.detail)}`
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

function shortenWorkerLog(report: RunReport, cuts: Cuts, fits: (candidate: Cuts) => boolean): Cuts {
  const total = report.worker?.logTail.length ?? 0
  return { ...cuts, logLines: largestFitting(total, (logLines) => fits({ ...cuts, logLines })) ?? 0 }
}

function omitGateDetails(report: RunReport, cuts: Cuts, fits: (candidate: Cuts) => boolean): Cuts {
  // Smallest first, so keeping the first k of them and omitting the rest drops the largest.
  const bySize = report.gates
    .flatMap((gate, index) => (hasDetails(gate) ? [{ index, bytes: utf8ByteLength(gate.details) }] : []))
    .sort((a, b) => a.bytes - b.bytes)
    .map(({ index }) => index)
  const omittingAllBut = (kept: number): Cuts => ({ ...cuts, detailsOmitted: new Set(bySize.slice(kept)) })
  return omittingAllBut(largestFitting(bySize.length, (kept) => fits(omittingAllBut(kept))) ?? 0)
}

function omitRunSection(_report: RunReport, cuts: Cuts, fits: (candidate: Cuts) => boolean): Cuts {
  const kept = { ...cuts, runOmitted: false }
  return fits(kept) ? kept : { ...cuts, runOmitted: true }
}

function truncateOutsideText(report: RunReport, cuts: Cuts, fits: (candidate: Cuts) => boolean): Cuts {
  const longest = outsideTexts(report).reduce((most, text) => Math.max(most, utf8ByteLength(text)), 0)
  const outsideTextBytes = largestFitting(longest, (bytes) => fits({ ...cuts, outsideTextBytes: bytes })) ?? 0
  // Undefined when nothing is cut, so the notice can tell without measuring every text again.
  return { ...cuts, outsideTextBytes: outsideTextBytes < longest ? outsideTextBytes : undefined }
}

function dropTrailingGates(report: RunReport, cuts: Cuts, fits: (candidate: Cuts) => boolean): Cuts {
  const gatesShown = largestFitting(report.gates.length, (shown) => fits({ ...cuts, gatesShown: shown })) ?? 0
  return { ...cuts, gatesShown }
}

/** The texts `outsideTextBytes` caps: every evidence cell and the interruption message. */
function outsideTexts(report: RunReport): string[] {
  return [...report.gates.map((gate) => gate.evidence), report.interrupted?.message ?? '']
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
function keepLeadingBlocks(report: RunReport, parts: SummaryParts, cuts: Cuts, budgetBytes: number): string {
  const notice = trimNotice([...leftOut(report, cuts), 'the rest of the summary'], budgetBytes)
  const kept: Block[] = []
  for (const block of summaryBlocks(report, parts, cuts)) {
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
