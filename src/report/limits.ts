// GitHub's documented limits for what a step hands it, and the bounds this action keeps under
// them. The gates bound their lists where they build them (src/util/bounded.ts); these are the
// last line of defence at the sinks, for any text that still grew (outside text, a new gate).
//
// - Outputs: "Outputs can be a maximum of 1 MB per job. The total of all outputs in a workflow run
//   can be a maximum of 50 MB. Size is approximated based on UTF-16 encoding." (docs.github.com,
//   Actions: defining outputs for jobs). A job may have other steps with outputs, so this step's
//   outputs together take at most half of that.
// - Annotations: the runner keeps 10 of each kind per step and cuts each message to 4,096
//   characters (actions/runner ExecutionContext: _maxIssueMessageLength), silently.
// - Job summary: 1 MiB per step, dropped entirely when larger (src/report/budget.ts fits it).
import { boundText } from '../util/bounded.js'

/** What all of this step's outputs together may take, in GitHub's measure (`githubSize`). */
export const OUTPUTS_BUDGET_BYTES = 500_000
/** The `gates` output's share of it; the taxonomy gets what the others leave. */
export const GATES_OUTPUT_BUDGET_BYTES = 200_000
/** The runner cuts an annotation's message here (UTF-16 units). */
export const ANNOTATION_MESSAGE_MAX_CHARS = 4_096
/** What this action puts in one: room under the runner's cut for its notice to survive. */
export const ANNOTATION_MESSAGE_BUDGET_CHARS = 4_000
/** A gate's evidence, as stored in the report (the gates bound their lists long before this). */
export const EVIDENCE_MAX_CHARS = 16_000
/**
 * A gate's details, as stored in the report file. A file may hold far more than an output, but a
 * list that grows with the database (one line per table) still needs a bound.
 */
export const DETAILS_MAX_CHARS = 4_000_000
/** One line of the step's log about a gate. */
export const LOG_LINE_MAX_CHARS = 1_000

/**
 * A value's size as GitHub counts outputs: the UTF-16 approximation (2 bytes a unit), or the UTF-8
 * bytes written to GITHUB_OUTPUT when that is more (characters above U+07FF).
 */
export function githubSize(text: string): number {
  return Math.max(2 * text.length, Buffer.byteLength(text, 'utf8'))
}

/** An annotation's message, cut under the runner's limit with what was left out said. */
export function annotationMessage(text: string): string {
  return boundText(text, ANNOTATION_MESSAGE_BUDGET_CHARS, 'the job summary and the report have all of it')
}

export interface GateOutput {
  id: string
  title: string
  status: string
  evidence: string
}

/**
 * The `gates` output: every gate with its evidence, as JSON of at most `maxBytes` (GitHub's
 * measure). Evidence is cut, the longest first, until it fits; each cut says so.
 */
export function gatesOutput(gates: readonly GateOutput[], maxBytes: number = GATES_OUTPUT_BUDGET_BYTES): string {
  let limit = EVIDENCE_MAX_CHARS
  for (;;) {
    const json = JSON.stringify(gates.map((g) => ({ ...g, evidence: boundText(g.evidence, limit, 'see the report') })))
    if (githubSize(json) <= maxBytes || limit <= 200) return json
    limit = Math.floor(limit / 2)
  }
}

/** A JSON array of as many leading items as fit in `maxBytes` (GitHub's measure; still valid JSON). */
export function boundedJsonArray(items: readonly unknown[], maxBytes: number): { json: string; kept: number; omitted: number } {
  const parts: string[] = []
  let bytes = 4
  for (const item of items) {
    const part = JSON.stringify(item)
    const size = githubSize(part) + (parts.length ? 2 : 0)
    if (bytes + size > maxBytes) break
    parts.push(part)
    bytes += size
  }
  return { json: `[${parts.join(',')}]`, kept: parts.length, omitted: items.length - parts.length }
}

/**
 * A gate's evidence and details as stored in the report: evidence past EVIDENCE_MAX_CHARS is cut
 * (its whole text moves to the details), details past DETAILS_MAX_CHARS too; each cut says so.
 */
export function boundGateText(evidence: string, details: string | undefined): { evidence: string; details?: string } {
  let full = details
  if (evidence.length > EVIDENCE_MAX_CHARS) full = `The evidence in full:\n${evidence}${details ? `\n\n${details}` : ''}`
  const bounded = { evidence: boundText(evidence, EVIDENCE_MAX_CHARS, 'the details have all of it') }
  return full === undefined ? bounded : { ...bounded, details: boundText(full, DETAILS_MAX_CHARS, 'bounded in the report file') }
}
