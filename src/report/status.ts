// How statuses and the verdict read, shared by the markdown summary and the terminal matrix so
// both say the same thing in the same words.
import type { GateStatus } from '../constants.js'
import type { ReportStatus, TestPhase } from '../junit/model.js'
import { CATEGORIES, type ComponentStatus, type TaxonomyEntry } from '../taxonomy/model.js'
import type { GateResult, RunReport, Verdict } from './model.js'

interface StatusPresentation {
  emoji: string
  label: string
  /** The status as a past participle, for sentences: "2 skipped". */
  outcome: string
}

const STATUS_PRESENTATION: Readonly<Record<GateStatus, StatusPresentation>> = {
  pass: { emoji: '✅', label: 'PASS', outcome: 'passed' },
  fail: { emoji: '❌', label: 'FAIL', outcome: 'failed' },
  warn: { emoji: '⚠️', label: 'MIXED', outcome: 'mixed' },
  skip: { emoji: '⏭️', label: 'SKIPPED', outcome: 'skipped' }
}

export type InterruptionKind = NonNullable<RunReport['interrupted']>['kind']

const INTERRUPTION_HEADLINES: Readonly<Record<InterruptionKind, string>> = {
  cancelled: 'cancelled by the runner',
  'input-error': 'input error',
  crash: 'the action crashed'
}

/** A sentence stays readable when hundreds of gates share a status. */
const MAX_IDS_NAMED = 10

/** The status for the job summary: `✅ PASS`. A verdict is a status too. */
export function statusBadge(status: GateStatus): string {
  const { emoji, label } = STATUS_PRESENTATION[status]
  return `${emoji} ${label}`
}

/**
 * The status in a table cell: a no-break space keeps emoji and label on one line when a wide
 * table squeezes the column (checked in Chromium: test/integration/summary-page.test.ts).
 */
export function statusCell(status: GateStatus): string {
  const { emoji, label } = STATUS_PRESENTATION[status]
  return `${emoji}\u00a0${label}`
}

/** The status for terminals without emoji: `PASS`. */
export function statusLabel(status: GateStatus): string {
  return STATUS_PRESENTATION[status].label
}

/** Why the run stopped early, in a few words: "cancelled by the runner". */
export function describeInterruption(kind: InterruptionKind): string {
  return INTERRUPTION_HEADLINES[kind]
}

/** The run's verdict from its gates: it fails when a foundation gate failed. */
export function verdictOf(results: readonly GateResult[]): Verdict {
  return results.some((r) => r.foundation && r.status === 'fail') ? 'fail' : 'pass'
}

/**
 * The part of the verdict sentence after the dash, e.g. "1 of 9 foundation gates failed:
 * `runtime`; 2 skipped: `db-access`, `rls-role`". `formatId` renders a gate id for the medium.
 */
export function describeGateOutcome(gates: readonly GateResult[], formatId: (id: string) => string): string {
  const foundation = gates.filter((gate) => gate.foundation)
  const outside = countByStatus(
    gates.filter((gate) => !gate.foundation),
    ['fail', 'warn', 'skip'],
    formatId
  )
  const clauses = [describeFoundation(foundation, formatId)]
  if (outside.length > 0) clauses.push(`outside the foundation, ${outside.join(', ')}`)
  return clauses.join('; ')
}

function describeFoundation(foundation: readonly GateResult[], formatId: (id: string) => string): string {
  const total = foundation.length
  if (total === 0) return 'no foundation gates ran'
  if (foundation.every((gate) => gate.status === 'pass')) {
    return total === 1 ? 'the foundation gate passed' : `all ${total} foundation gates passed`
  }
  if (foundation.every((gate) => gate.status === 'skip')) return `none of the ${total} foundation gates ran`
  const failed = idsWithStatus(foundation, 'fail')
  // Without a failure, what kept the verdict from passing is how few passed: "2 of 5 foundation
  // gates passed; 3 skipped" says so, where "no foundation gate failed" next to FAIL would not.
  const passed = idsWithStatus(foundation, 'pass').length
  const headline =
    failed.length > 0
      ? `${failed.length} of ${total} foundation gates failed: ${nameIds(failed, formatId)}`
      : passed > 0
        ? `${passed} of ${total} foundation gates passed`
        : `none of the ${total} foundation gates passed`
  return [headline, ...countByStatus(foundation, ['warn', 'skip'], formatId)].join('; ')
}

/** "2 skipped: `db-access`, `rls-role`" for each status that some gate has. */
function countByStatus(gates: readonly GateResult[], statuses: readonly GateStatus[], formatId: (id: string) => string): string[] {
  return statuses.flatMap((status) => {
    const ids = idsWithStatus(gates, status)
    return ids.length > 0 ? [`${ids.length} ${STATUS_PRESENTATION[status].outcome}: ${nameIds(ids, formatId)}`] : []
  })
}

function idsWithStatus(gates: readonly GateResult[], status: GateStatus): string[] {
  return gates.filter((gate) => gate.status === status).map((gate) => gate.id)
}

/** "`a`, `b` and 3 more". */
export function nameIds(ids: readonly string[], formatId: (id: string) => string): string {
  const named = ids.slice(0, MAX_IDS_NAMED).map(formatId).join(', ')
  const rest = ids.length - MAX_IDS_NAMED
  return rest > 0 ? `${named} and ${rest} more` : named
}

const COMPONENT_PRESENTATION: Readonly<Record<ComponentStatus['status'], { emoji: string; label: string }>> = {
  operational: { emoji: '✅', label: 'OPERATIONAL' },
  broken: { emoji: '❌', label: 'BROKEN' },
  unproven: { emoji: '⏭️', label: 'UNPROVEN' },
  sound: { emoji: '✅', label: 'SOUND' },
  defective: { emoji: '❌', label: 'DEFECTIVE' },
  'no-reports': { emoji: '⚠️', label: 'NO REPORTS' }
}

/** A row of "Test vs foundation" as the summary shows its status: `✅ OPERATIONAL`. */
export function componentBadge(status: ComponentStatus['status']): string {
  const presentation = COMPONENT_PRESENTATION[status] as { emoji: string; label: string } | undefined
  return presentation === undefined ? '❔ UNKNOWN' : `${presentation.emoji} ${presentation.label}`
}

// pytest reports an exception outside the test body as an error of its setup or teardown, and
// any exception inside it (an assertion or not) as a failure; the entry does not say which
// exception it was, so a failure of the body is just that.
const PHASE_TYPES: Readonly<Record<Exclude<TestPhase, 'call'>, string>> = {
  setup: 'Setup error',
  teardown: 'Teardown error',
  collection: 'Collection error'
}

/** What kind of failure a failing test had, from where it failed: "Setup error", "Failure". */
export function describeFailureType({ outcome, phase }: Pick<TaxonomyEntry, 'outcome' | 'phase'>): string {
  if (phase !== 'call' && phase in PHASE_TYPES) return PHASE_TYPES[phase]
  return outcome === 'failure' ? 'Failure' : 'Error'
}

const REPORT_STATUS_DESCRIPTIONS: Readonly<Record<ReportStatus, string>> = {
  ok: 'was read',
  empty: 'is empty',
  malformed: 'is not well-formed XML',
  unreadable: 'could not be read',
  'not-junit': 'is not a JUnit report'
}

/** What became of a report file, as a predicate: "is empty", "is not a JUnit report". */
export function describeReportStatus(status: ReportStatus): string {
  return REPORT_STATUS_DESCRIPTIONS[status] ?? 'could not be used'
}

/**
 * Categories in the order of the taxonomy: the foundation's first (they explain the others),
 * then the harness's, then `unknown`; a category the taxonomy does not know comes last.
 */
export function categoryRank(category: string): number {
  const index = (CATEGORIES as readonly string[]).indexOf(category)
  return index === -1 ? CATEGORIES.length : index
}
