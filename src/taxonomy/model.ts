// The failure taxonomy: every failing or erroring test case lands in exactly one category, with
// the rule that put it there, the line that shows it, and what to do about it.
import type { ReportCounts, ReportFile, TestOutcome, TestPhase } from '../junit/model.js'

/** One per foundation gate (`foundation:<gate id>`), in matrix order. */
export const FOUNDATION_CATEGORIES = [
  'foundation:import',
  'foundation:broker-config',
  'foundation:runtime',
  'foundation:db-access',
  'foundation:rls-role',
  'foundation:queues',
  'foundation:tasks',
  'foundation:logs',
  'foundation:dlq',
  'foundation:tenant-isolation'
] as const

export const HARNESS_CATEGORIES = ['harness:readiness', 'harness:eager-mode', 'harness:log-capture', 'harness:async-bridge'] as const

export const CATEGORIES = [...FOUNDATION_CATEGORIES, ...HARNESS_CATEGORIES, 'unknown'] as const
export type Category = (typeof CATEGORIES)[number]

export const isFoundationCategory = (c: Category): boolean => c.startsWith('foundation:')

/** One object per failing or erroring test case: the `taxonomy` output and report field. */
export interface TaxonomyEntry {
  report: string
  classname: string
  name: string
  outcome: Extract<TestOutcome, 'failure' | 'error'>
  /** Where it failed (setup, call, teardown, collection): the "type" of the failure. */
  phase: TestPhase
  category: Category
  rule: string
  evidence: string
  remediation: string
}

/** One row of "Test vs Foundation Distinction". */
export interface ComponentStatus {
  component: string
  kind: 'foundation' | 'tests'
  status: 'operational' | 'broken' | 'unproven' | 'sound' | 'defective' | 'no-reports'
  evidence: string
}

export interface TestsReport {
  /** The `junit` globs as given. */
  patterns: string[]
  files: ReportFile[]
  /** Globs that matched no file. */
  unmatched: string[]
  /** Where the globs were looked for (working-directory, then the workspace); set when a glob matched nothing there, or only in the workspace. */
  searched?: string[]
  /** Globs that matched nothing in working-directory and were resolved from the workspace. */
  fromWorkspace?: string[]
  totals: ReportCounts
  /** Failing or erroring <testcase> elements, one per entry of `taxonomy` (the `tests-failed` output): pytest's two entries for a test whose call failed and whose teardown errored count twice. */
  failed: number
  byCategory: Partial<Record<Category, number>>
  taxonomy: TaxonomyEntry[]
  /** Failing cases counted but not kept in `taxonomy` (past its bounds: analyze.ts). */
  taxonomyOmitted?: number
  components: ComponentStatus[]
  /**
   * The closing sentence, e.g. "foundation green, test suite red: remediate the tests". Named
   * `verdict` in the report's schema (a public field, kept); not the run's pass/fail verdict.
   */
  verdict: string
  /** Where the user's rules came from, if any. */
  rulesFile?: string
  durationMs: number
}
