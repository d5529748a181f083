// Test results as read from JUnit XML reports (pytest --junitxml, vitest's junit reporter,
// jest-junit). The reader streams: it hands over one test case at a time and keeps nothing but
// per-file counts, so a report of any size costs bounded memory.

export type TestOutcome = 'passed' | 'failure' | 'error' | 'skipped' | 'xfailed' | 'xpassed'

/** Where a test failed: pytest tells setup/teardown errors and collection errors apart. */
export type TestPhase = 'setup' | 'call' | 'teardown' | 'collection'

export interface TestCase {
  /** The report file's path as matched by the glob (relative to the directory globs start from). */
  report: string
  classname: string
  name: string
  file?: string
  line?: number
  timeSeconds?: number
  outcome: TestOutcome
  phase: TestPhase
  /** The message attribute of <failure>/<error>/<skipped> (bounded). */
  message: string
  /** The type attribute of <failure>/<error>/<skipped>, if any. */
  type: string
  /** The element's text: the traceback / longrepr (bounded; `truncated` says when cut). */
  text: string
  /** Captured output, when the runner wrote it (pytest junit_logging, vitest includeConsoleOutput). */
  systemOut: string
  systemErr: string
  truncated: boolean
  /**
   * The second problem written inside the same <testcase> (pytest: a setup error, then a teardown
   * error). A test that pytest writes as two <testcase> elements (call failure, then teardown
   * error) is two cases, not one with this set.
   */
  alsoFailed?: { phase: TestPhase; outcome: TestOutcome; message: string }
}

export type ReportStatus = 'ok' | 'empty' | 'malformed' | 'unreadable' | 'not-junit'

export interface ReportCounts {
  cases: number
  passed: number
  failed: number
  errored: number
  skipped: number
  xfailed: number
  xpassed: number
}

export interface ReportFile {
  /** The glob that matched this file. */
  pattern: string
  /** The path as matched (relative to the directory globs start from). */
  path: string
  status: ReportStatus
  /** For any status but ok: one line saying what is wrong (e.g. `line 3, column 7: unclosed tag`). */
  detail?: string
  /** Which runner wrote it, when recognisable. */
  tool?: 'pytest' | 'vitest' | 'jest' | 'junit'
  bytes: number
  counts: ReportCounts
}

export interface ReadResult {
  files: ReportFile[]
  /** Globs that matched no file (each one is a finding in the summary). */
  unmatched: string[]
  /** The directories the globs were resolved from, in order (working-directory, then the workspace). */
  searched: string[]
  /** Globs that matched nothing in working-directory and were resolved from the workspace instead. */
  fromWorkspace: string[]
}
