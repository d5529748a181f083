// The failure taxonomy: every failing or erroring test case lands in exactly one category, with
// the rule that put it there, the line that shows it, and what to do about it.
import type { ReportCounts, ReportFile, TestOutcome, TestPhase } from '../junit/model.js'

export const FOUNDATION_CATEGORIES = [
  'foundation:import',
  'foundation:broker-config',
  'foundation:runtime',
  'foundation:db-access',
  'foundation:rls-role'
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
  totals: ReportCounts
  /** Unique failing or erroring test cases (the `tests-failed` output). */
  failed: number
  byCategory: Partial<Record<Category, number>>
  taxonomy: TaxonomyEntry[]
  /** Failing cases counted but not kept in `taxonomy` (past its bounds: analyze.ts). */
  taxonomyOmitted?: number
  components: ComponentStatus[]
  /** The overall sentence, e.g. "foundation green, test suite red: remediate the tests". */
  verdict: string
  /** Where the user's rules came from, if any. */
  rulesFile?: string
  durationMs: number
}
