// Pull-request feedback as text: the one comment a rerun updates, and the output of a check run.
// Pure, like the job summary (markdown.ts renders every part of it): results in, text out, and
// GitHub's limits enforced here, where it is known what may be left out and the reader told so.
import type { GateResult, RunReport } from './model.js'
import { escapeTableCell, inlineCode, stripControlCharacters, truncateUtf8, utf8ByteLength } from './escape.js'
import { clipCharacters, formatCount } from './format.js'
import { renderSummary } from './markdown.js'
import { describeGateOutcome, describeInterruption, statusLabel } from './status.js'

/** GitHub refuses a comment body longer than this many characters. */
export const COMMENT_MAX_CHARACTERS = 65_536
/** GitHub refuses a check run whose output summary or text is longer than this many characters. */
export const CHECK_RUN_OUTPUT_MAX_CHARACTERS = 65_535
/** GitHub takes at most this many annotations per check-run request. */
export const CHECK_RUN_MAX_ANNOTATIONS = 50
/** GitHub's limit for an annotation's message: 64 KB. */
export const ANNOTATION_MESSAGE_MAX_BYTES = 64 * 1024

// The renderers count UTF-8 bytes, which bound every way of counting characters (UTF-16 units,
// code points) from above, and stay well below GitHub's limits: room for what a last redaction
// pass or GitHub's own processing may add.
/** The most UTF-8 bytes a comment body takes. */
export const COMMENT_BUDGET_BYTES = 60_000
/** The most UTF-8 bytes a check run's output summary, or its text, takes. */
export const CHECK_RUN_OUTPUT_BUDGET_BYTES = 60_000
/** The most UTF-8 bytes an annotation's message takes. */
export const ANNOTATION_MESSAGE_BUDGET_BYTES = 60_000
/** A check run's title, and an annotation's, is one line of at most this many characters. */
export const TITLE_MAX_CHARACTERS = 200
/** A notice is one sentence; a path in it is what could make it long. */
export const NOTICE_MAX_CHARACTERS = 1_000
/** A marker is an id, not a text: long enough for a tool, an app and a directory. */
export const MARKER_MAX_CHARACTERS = 1_000

/** Where a check run's annotations point when the run's workflow file is not known. */
export const DEFAULT_ANNOTATION_PATH = '.github'

export interface PrCommentOptions {
  /** Finds this comment again on a rerun; different markers keep different comments. */
  marker: string
  /** The run's page, whose job summary has everything the comment leaves out. */
  runUrl?: string
  /**
   * A warning the reader must see before the verdict, as one plain sentence (escaped here): what
   * the gates proved when it is not the pull request's code.
   */
  notice?: string
}

/** An annotation as `POST /repos/{owner}/{repo}/check-runs` takes it. */
export interface CheckAnnotation {
  path: string
  start_line: number
  end_line: number
  annotation_level: 'notice' | 'warning' | 'failure'
  title: string
  message: string
}

export interface CheckRunOutput {
  title: string
  summary: string
  text?: string
  annotations: CheckAnnotation[]
}

export interface CheckRunOutputOptions {
  /** The file the annotations point at (the workflow file, when known). */
  annotationPath?: string
}

/**
 * The hidden first line of the comment, `<!-- marker -->`. The marker is percent-encoded where
 * it could end the HTML comment or the line (`<`, `>`, line breaks) — and `%` itself, so that
 * two markers never encode alike.
 */
export function commentMarker(marker: string): string {
  if (marker.trim() === '' || [...marker].length > MARKER_MAX_CHARACTERS) {
    throw new RangeError(`a comment marker must be 1 to ${MARKER_MAX_CHARACTERS} characters, got ${[...marker].length}`)
  }
  const encoded = marker.replace(/[%<>\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (character) => encodeURIComponent(character))
  return `<!-- ${encoded} -->`
}

/**
 * The body of the pull request's one comment: the hidden marker, the summary's title, verdict
 * and gate matrix (trimmed to GitHub's limit, whole rows only), and where the rest is.
 */
export function renderPrComment(report: RunReport, options: PrCommentOptions): string {
  const marker = commentMarker(options.marker)
  const footer = commentFooter(report, options.runUrl)
  const notice = options.notice === undefined ? '' : `${renderNotice(options.notice)}\n\n`
  // The marker and the notice go first and the footer last; the matrix gets what they leave.
  const frameBytes = utf8ByteLength(`${marker}\n${notice}\n${footer}\n`)
  const matrix = renderSummary(report, {
    sections: 'matrix',
    budgetBytes: Math.max(0, COMMENT_BUDGET_BYTES - frameBytes),
    limitName: "GitHub's limit for a pull-request comment"
  })
  return `${marker}\n${notice}${matrix}\n${footer}\n`
}

/** A warning as a quoted paragraph: one sentence of plain text, escaped, cut to a readable length. */
export function renderNotice(sentence: string): string {
  const text = clipCharacters(oneLine(sentence), NOTICE_MAX_CHARACTERS)
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1)
  return `> ⚠️ **${escapeTableCell(capitalised)}.**`
}

function commentFooter(report: RunReport, runUrl: string | undefined): string {
  const link = httpUrl(runUrl)
  const summary = link === undefined ? "the run's job summary" : `[the run's job summary](<${link}>)`
  const run = `Run ${inlineCode(clipCharacters(report.runId, TITLE_MAX_CHARACTERS))}, finished ${escapeTableCell(report.finishedAt)}.`
  return `_${run} Each gate's details, the failure taxonomy, the worker log and the timings are in ${summary}. This comment is updated on every run._`
}

/** The URL if it is a web address, normalised so that it cannot break out of a markdown link. */
function httpUrl(text: string | undefined): string | undefined {
  if (text === undefined || !URL.canParse(text)) return undefined
  const url = new URL(text)
  // The parser percent-encodes spaces, quotes and angle brackets, which could end `<…>`.
  return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined
}

/**
 * A check run's output: the verdict as its title, the matrix as its summary, the rest of the job
 * summary as its text (each within GitHub's limits, saying what was left out), and an annotation
 * for each failed gate, as many as one request may carry.
 */
export function renderCheckRunOutput(report: RunReport, options: CheckRunOutputOptions = {}): CheckRunOutput {
  const failed = report.gates.filter((gate) => gate.status === 'fail')
  const annotated = failed.slice(0, CHECK_RUN_MAX_ANNOTATIONS)
  const path = options.annotationPath ?? DEFAULT_ANNOTATION_PATH
  return {
    title: checkRunTitle(report),
    summary: renderSummary(report, {
      sections: 'matrix',
      budgetBytes: CHECK_RUN_OUTPUT_BUDGET_BYTES,
      limitName: "GitHub's limit for a check run's summary"
    }),
    text: checkRunText(report, failed.length - annotated.length),
    annotations: annotated.map((gate) => gateAnnotation(gate, path))
  }
}

/** "FAIL — 1 of 10 foundation gates failed: runtime; 7 skipped: …", on one line. */
export function checkRunTitle(report: RunReport): string {
  const interruption = report.interrupted === undefined ? '' : ` (${describeInterruption(report.interrupted.kind)})`
  const outcome = describeGateOutcome(report.gates, (id) => oneLine(id))
  return clipCharacters(oneLine(`${statusLabel(report.verdict)}${interruption} — ${outcome}`), TITLE_MAX_CHARACTERS)
}

function checkRunText(report: RunReport, failuresNotAnnotated: number): string {
  const note =
    failuresNotAnnotated > 0
      ? `_Annotations: the first ${CHECK_RUN_MAX_ANNOTATIONS} failed gates (GitHub takes ${CHECK_RUN_MAX_ANNOTATIONS} per request); ${failuresNotAnnotated} more failed, and the matrix and the JSON report list them._\n\n`
      : ''
  const details = renderSummary(report, {
    sections: 'details',
    budgetBytes: Math.max(0, CHECK_RUN_OUTPUT_BUDGET_BYTES - utf8ByteLength(note)),
    limitName: "GitHub's limit for a check run's text"
  })
  return note + details
}

/** An annotation is plain text: the evidence as the gate wrote it, cut to GitHub's limit. */
function gateAnnotation(gate: GateResult, path: string): CheckAnnotation {
  return {
    path,
    start_line: 1,
    end_line: 1,
    annotation_level: 'failure',
    title: clipCharacters(`${oneLine(gate.id)} failed`, TITLE_MAX_CHARACTERS),
    message: boundedMessage(stripControlCharacters(gate.evidence).trim() || 'failed, with no evidence recorded')
  }
}

function boundedMessage(text: string): string {
  const bytes = utf8ByteLength(text)
  if (bytes <= ANNOTATION_MESSAGE_BUDGET_BYTES) return text
  const notice = `\n… (cut: the evidence has ${formatCount(bytes)} bytes; the job summary shows more)`
  return `${truncateUtf8(text, ANNOTATION_MESSAGE_BUDGET_BYTES - utf8ByteLength(notice)).trimEnd()}${notice}`
}

/** Outside text as one plain line: no control characters, whitespace folded. */
function oneLine(text: string): string {
  // A title shows a line at most, so only a bounded prefix of a huge text is read.
  const prefix = text.length > TITLE_MAX_CHARACTERS * 4 ? text.slice(0, TITLE_MAX_CHARACTERS * 4) : text
  return stripControlCharacters(prefix).replace(/\s+/g, ' ').trim()
}
