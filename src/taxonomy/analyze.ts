// From JUnit reports to the forensic report the seed was written by hand: every failing test
// classified as it streams past (nothing but the classifications is kept, so report size does not
// matter), then the two tables — failures by category, and test harness versus foundation — and
// the one sentence that says which of the two needs work.
import type { GateStatus } from '../constants.js'
import type { ReportCounts, TestCase } from '../junit/model.js'
import { readJUnitReports, workspaceRoots } from '../junit/read.js'
import type { GateResult } from '../report/model.js'
import { classifier, type ClassifyContext } from './classify.js'
import { isFoundationCategory, type Category, type ComponentStatus, type TaxonomyEntry, type TestsReport } from './model.js'
import type { Rule } from './rules.js'

export interface AnalyzeInput {
  patterns: string[]
  /** Directory the globs are relative to. */
  cwd: string
  /** Where a glob that matches nothing in `cwd` is tried next; default: GITHUB_WORKSPACE, or (the CLI) the current directory. */
  workspace?: string
  /** Directories reports must lie in (real paths); default: the workspace (workspaceRoots). */
  roots?: readonly string[]
  rules: readonly Rule[]
  rulesFile?: string
  /** This run's gate results (the foundation gates at least). */
  gates: readonly GateResult[]
  /** Values the remediations may quote, e.g. pong_ms. */
  values: Record<string, string>
}

/**
 * How many classified failures the report keeps, and how many characters of test ids and evidence
 * they may hold together. The reports come from pull-request code: 4,000,000 failing cases (a
 * 295 MB file) exhausted the heap before anything was written. Every failure is still counted
 * (`failed`, `byCategory`); past either bound it is not kept, and `taxonomyOmitted` says so.
 */
export const MAX_TAXONOMY_ENTRIES = 100_000
export const MAX_TAXONOMY_CHARACTERS = 50_000_000

export async function analyzeTests(input: AnalyzeInput): Promise<TestsReport> {
  const t0 = performance.now()
  const ctx: ClassifyContext = {
    gates: Object.fromEntries(input.gates.map((g) => [g.id, g.status])) as Record<string, GateStatus>,
    values: input.values
  }
  const classify = classifier(input.rules, ctx)
  const taxonomy: TaxonomyEntry[] = []
  const byCategory: Partial<Record<Category, number>> = {}
  let failed = 0
  let characters = 0
  const { files, unmatched, searched, fromWorkspace } = await readJUnitReports(input.patterns, {
    cwd: input.cwd,
    fallbackCwd: input.workspace ?? workspaceDir(),
    roots: input.roots ?? workspaceRoots(input.cwd),
    onCase(tc: TestCase) {
      if (tc.outcome !== 'failure' && tc.outcome !== 'error') return
      const entry = classify(tc)
      failed++
      byCategory[entry.category] = (byCategory[entry.category] ?? 0) + 1
      const size = entry.classname.length + entry.name.length + entry.evidence.length + entry.report.length
      if (taxonomy.length >= MAX_TAXONOMY_ENTRIES || characters + size > MAX_TAXONOMY_CHARACTERS) return
      characters += size
      taxonomy.push(entry)
    }
  })
  const totals = files.reduce<ReportCounts>(
    (sum, f) => {
      for (const k of Object.keys(sum) as Array<keyof ReportCounts>) sum[k] += f.counts[k]
      return sum
    },
    { cases: 0, passed: 0, failed: 0, errored: 0, skipped: 0, xfailed: 0, xpassed: 0 }
  )
  const report: TestsReport = {
    patterns: input.patterns,
    files,
    unmatched,
    totals,
    failed,
    byCategory,
    taxonomy,
    ...(failed > taxonomy.length ? { taxonomyOmitted: failed - taxonomy.length } : {}),
    components: [],
    verdict: '',
    durationMs: 0
  }
  if (input.rulesFile) report.rulesFile = input.rulesFile
  // Said only when it matters, so that a plain run's report stays as it was.
  if (fromWorkspace.length) report.fromWorkspace = fromWorkspace
  if (fromWorkspace.length || unmatched.length) report.searched = searched
  report.components = components(input.gates, report)
  report.verdict = closingSentence(input.gates, report)
  report.durationMs = Math.round(performance.now() - t0)
  return report
}

/** The workspace on a runner; for the CLI, the folder it was started from. */
function workspaceDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.GITHUB_WORKSPACE?.trim() || process.cwd()
}

const gateOf = (gates: readonly GateResult[], id: string): GateResult | undefined => gates.find((g) => g.id === id)
const firstLine = (s: string | undefined): string => (s ?? '').split('\n')[0] ?? ''

function foundationStatus(gate: GateResult | undefined): ComponentStatus['status'] {
  if (!gate || gate.status === 'skip') return 'unproven'
  return gate.status === 'fail' ? 'broken' : 'operational'
}

/** "Test vs Foundation Distinction": each part of the foundation from its gate, then the tests. */
function components(gates: readonly GateResult[], tests: TestsReport): ComponentStatus[] {
  const runtime = gateOf(gates, 'runtime')
  const broker = gateOf(gates, 'broker-config')
  const access = gateOf(gates, 'db-access')
  const rls = gateOf(gates, 'rls-role')
  const brokerGate = broker?.status === 'fail' ? broker : runtime
  const rows: ComponentStatus[] = [
    { component: 'Celery worker', kind: 'foundation', status: foundationStatus(runtime), evidence: firstLine(runtime?.evidence) },
    {
      component: 'Postgres broker',
      kind: 'foundation',
      status: foundationStatus(brokerGate),
      evidence:
        broker?.status === 'fail'
          ? firstLine(broker.evidence)
          : runtime?.status === 'pass'
            ? "the ping went through the broker's tables and back"
            : firstLine(runtime?.evidence)
    },
    { component: 'Result backend and tables', kind: 'foundation', status: foundationStatus(access), evidence: firstLine(access?.evidence) },
    { component: 'Roles and row-level security', kind: 'foundation', status: foundationStatus(rls), evidence: firstLine(rls?.evidence) }
  ]
  rows.push(harnessRow(tests))
  return rows
}

function counted(byCategory: Partial<Record<Category, number>>, which: (c: Category) => boolean): Array<[Category, number]> {
  return (Object.entries(byCategory) as Array<[Category, number]>).filter(([c, n]) => which(c) && n > 0).sort((a, b) => b[1] - a[1])
}

const list = (pairs: Array<[Category, number]>): string => pairs.map(([c, n]) => `${c.replace(/^\w+:/, '')} ${n}`).join(', ')

function harnessRow(tests: TestsReport): ComponentStatus {
  const row = { component: 'Test harness', kind: 'tests' as const }
  const read = tests.files.filter((f) => f.status === 'ok')
  if (!read.length) return { ...row, status: 'no-reports', evidence: 'no JUnit report could be read' }
  const harness = counted(tests.byCategory, (c) => c.startsWith('harness:'))
  const unknown = tests.byCategory.unknown ?? 0
  const foundation = counted(tests.byCategory, isFoundationCategory).reduce((n, [, k]) => n + k, 0)
  if (harness.length)
    return { ...row, status: 'defective', evidence: `${harness.reduce((n, [, k]) => n + k, 0)} failing tests caused by the harness: ${list(harness)}` }
  if (unknown) return { ...row, status: 'unproven', evidence: `${unknown} failing test${unknown > 1 ? 's' : ''} no rule explains` }
  if (foundation) return { ...row, status: 'sound', evidence: `its ${foundation} failure${foundation > 1 ? 's' : ''} follow from the foundation` }
  return { ...row, status: 'sound', evidence: `${tests.totals.cases} test cases, none failing` }
}

/** The seed's closing sentence, computed: which side is red, and what to do first. */
function closingSentence(gates: readonly GateResult[], tests: TestsReport): string {
  const foundationRed = gates.some((g) => g.foundation && g.status === 'fail')
  const readable = tests.files.some((f) => f.status === 'ok')
  const failed = tests.failed
  const fromFoundation = counted(tests.byCategory, isFoundationCategory).reduce((n, [, k]) => n + k, 0)
  if (!readable) return `foundation ${foundationRed ? 'red' : 'green'}; no test report could be read, so the test suite is not judged`
  if (!foundationRed && !failed) return 'foundation green, test suite green'
  if (!foundationRed) return `foundation green, test suite red: remediate the tests (${failed} failing: ${list(counted(tests.byCategory, () => true))})`
  if (!failed) return 'foundation red, test suite green: the tests do not exercise the real foundation — fix the foundation, then make the tests see it'
  return `foundation red, test suite red: fix the foundation first — ${fromFoundation} of ${failed} failing tests follow from it`
}
