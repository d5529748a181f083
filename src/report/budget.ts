// Fitting the job summary (or a part of it) to a byte budget. GitHub drops a step summary over
// 1 MiB entirely (it does not truncate it), so the summary is measured before it is written, and
// cut where a reviewer misses it least: each cut is a TrimStep, tried in order of priority, and
// the reader is told what was left out. The layout (markdown.ts) hands in the blocks to measure.
import type { GateResult, RunReport } from './model.js'
import { inlineCode, truncateUtf8, utf8ByteLength } from './escape.js'
import { countOf, formatCount } from './format.js'
import { nameIds } from './status.js'
import type { TestsView } from './taxonomy-sections.js'

/** Under GitHub's 1 MiB (1,048,576 bytes) per step, with room for whatever else the step adds. */
export const DEFAULT_SUMMARY_BUDGET_BYTES = 1_000_000

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
export interface Frame {
  sections: SummarySections
  budgetBytes: number
  /** "Summary", "Matrix" or "Details": what the notice says was trimmed. */
  subject: string
  limit: string
}

const SECTION_SUBJECTS: Readonly<Record<SummarySections, string>> = { all: 'Summary', matrix: 'Matrix', details: 'Details' }

/** What the summary leaves out to fit its budget. */
export interface Cuts {
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
export type TrimStep = (summary: Summary, cuts: Cuts, fits: (candidate: Cuts) => boolean) => Cuts

/** The report with what the summary derives from each gate and the tests, worked out once per render. */
export interface Summary {
  report: RunReport
  gates: readonly GateView[]
  tests?: TestsView
}

export interface GateView {
  gate: GateResult
  /** The evidence as the matrix shows it: bounded to a few short lines. */
  cellEvidence: string
  /** Whether `cellEvidence` leaves something out, so the details section shows it all. */
  evidenceShortened: boolean
  /** Whether the gate gets a collapsible details section, and its size for the trimming. */
  hasSection: boolean
  sectionBytes: number
}

/**
 * The lines of one block of markdown. Blocks are made lazily, and the matrix row by row, so
 * that measuring a candidate stops at the budget instead of rendering megabytes of input.
 */
export type Block = Iterable<string>

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

/**
 * The summary as `content` renders it with the fewest cuts that fit the frame's budget, and a
 * notice of what they left out.
 */
export function fitToBudget(summary: Summary, frame: Frame, content: (cuts: Cuts) => Iterable<Block>): string {
  const blocks = function* (cuts: Cuts): Generator<Block> {
    yield* content(cuts)
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
  return fits(cuts) ? joinBlocks(blocks(cuts)) : keepLeadingBlocks(summary, content, cuts, frame)
}

export function frameOf({ budgetBytes = DEFAULT_SUMMARY_BUDGET_BYTES, sections = 'all', limitName }: SummaryOptions): Frame {
  if (!Number.isFinite(budgetBytes) || budgetBytes < 0) {
    throw new RangeError(`budgetBytes must be a non-negative number of bytes, got ${budgetBytes}`)
  }
  const limit = limitName ?? (budgetBytes === DEFAULT_SUMMARY_BUDGET_BYTES ? "GitHub's 1 MiB limit" : `a budget of ${formatCount(budgetBytes)} bytes`)
  return { sections, budgetBytes, subject: SECTION_SUBJECTS[sections], limit }
}

export function rendersPart(sections: SummarySections, part: Exclude<SummarySections, 'all'>): boolean {
  return sections === 'all' || sections === part
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

export function joinBlocks(blocks: Iterable<Block>): string {
  return [...textPieces(blocks)].join('')
}

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
function keepLeadingBlocks(summary: Summary, content: (cuts: Cuts) => Iterable<Block>, cuts: Cuts, frame: Frame): string {
  const notice = trimNotice([...leftOut(summary, cuts), `the rest of the ${frame.subject.toLowerCase()}`], frame)
  const kept: Block[] = []
  for (const block of content(cuts)) {
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
      cuts.logLines === 0 ? `worker log omitted${fullLog}` : `worker log shortened to ${formatCount(cuts.logLines)} of ${formatCount(logTotal)} lines`
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
