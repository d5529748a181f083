// What a <testcase> means, from the elements the reader collected inside it. The runners say the
// same things in different words (see shared/docs §3): pytest puts the phase of an error in its
// message, vitest and jest-junit report a file that failed to load as a case of its own.
import type { ReportFile, TestOutcome, TestPhase } from './model.js'

export type Tool = NonNullable<ReportFile['tool']>

/** How much of each piece of a case is kept; anything longer is cut and `truncated` is set. */
export const LIMITS = {
  message: 2_000,
  text: 16_384,
  output: 8_192,
  /** classname, name, file: test ids can be long (parametrised), never unbounded. */
  attribute: 2_000
} as const

export type ResultKind = 'failure' | 'error' | 'skipped'

/** One <failure>, <error> or <skipped> child of a <testcase>, already bounded. */
export interface CaseResult {
  kind: ResultKind
  /** The message attribute, or '' when the element has none. */
  message: string
  type: string
  text: string
}

interface CaseIdentity {
  classname: string
  name: string
}

const PYTEST_SETUP = 'failed on setup with '
const PYTEST_TEARDOWN = 'failed on teardown with '
const PYTEST_COLLECTION_ERROR = 'collection failure'
const PYTEST_COLLECTION_SKIP = 'collection skipped'
/** pytest's words for an xfail test whose call failed to fail (an XPASS kept in a <skipped>). */
const PYTEST_XPASS_IN_SKIPPED = 'xfail-marked test passes unexpectedly'
/** jest-junit's classname for a file that failed to run (reportTestSuiteErrors). */
const JEST_SUITE_FAILED = 'Test suite failed to run'

/** The runner a report's root or suite name gives away (defaults of pytest, vitest, jest-junit). */
export function toolFromName(element: 'testsuites' | 'testsuite', name: string | undefined): Tool | undefined {
  if (element === 'testsuites') {
    if (name === 'pytest tests') return 'pytest' // pytest 8+ names its root
    if (name === 'vitest tests') return 'vitest'
    if (name === 'jest tests') return 'jest'
    return undefined
  }
  if (name === 'pytest') return 'pytest'
  if (name === 'vitest unhandled errors') return 'vitest'
  return undefined
}

/** The runner that a case's contents give away, when its names were changed from the defaults. */
export function toolFromCase(tc: CaseIdentity, result: CaseResult | undefined): Tool | undefined {
  if (tc.classname === 'pytest' && tc.name === 'internal') return 'pytest'
  if (tc.classname === JEST_SUITE_FAILED) return 'jest'
  if (result === undefined) return undefined
  if (result.type === 'pytest.skip' || result.type === 'pytest.xfail') return 'pytest'
  const { message } = result
  if (result.kind === 'error' && (message.startsWith(PYTEST_SETUP) || message.startsWith(PYTEST_TEARDOWN))) {
    return 'pytest'
  }
  return undefined
}

export function outcomeOf(result: CaseResult | undefined): TestOutcome {
  if (result === undefined) return 'passed'
  if (result.kind === 'failure') return 'failure'
  if (result.kind === 'error') return 'error'
  if (result.type === 'pytest.xfail') return 'xfailed'
  if (result.message === PYTEST_XPASS_IN_SKIPPED) return 'xpassed'
  return 'skipped'
}

export function phaseOf(tc: CaseIdentity, result: CaseResult | undefined, tool: Tool | undefined): TestPhase {
  if (result === undefined) return 'call'
  const { message } = result
  if (result.kind === 'error') {
    if (message.startsWith(PYTEST_SETUP)) return 'setup'
    if (message.startsWith(PYTEST_TEARDOWN)) return 'teardown'
    if (message === PYTEST_COLLECTION_ERROR) return 'collection'
  }
  if (result.kind === 'skipped') return message === PYTEST_COLLECTION_SKIP ? 'collection' : 'call'
  if (tc.classname === JEST_SUITE_FAILED) return 'collection'
  // vitest reports a file that failed to load as one case named after the file itself.
  if (tool === 'vitest' && tc.classname !== '' && tc.classname === tc.name) return 'collection'
  return 'call'
}

/**
 * The case's primary result and the second problem, if any: the first <failure>/<error> wins over
 * a <skipped> (pytest writes a skipped test whose teardown errored as both).
 */
export function pickResults(results: readonly CaseResult[]): { primary?: CaseResult; second?: CaseResult } {
  const problems = results.filter((result) => result.kind !== 'skipped')
  const [first, second] = problems
  if (first !== undefined) return second === undefined ? { primary: first } : { primary: first, second }
  const [skipped] = results
  return skipped === undefined ? {} : { primary: skipped }
}

/** The message attribute, or the text's first non-blank line when the runner wrote none (jest-junit). */
export function messageOf(result: CaseResult | undefined): string {
  if (result === undefined) return ''
  if (result.message !== '') return result.message
  const line = result.text.split('\n').find((candidate) => candidate.trim() !== '')
  return line === undefined ? '' : clipString(line.trim(), LIMITS.message)
}

/** The first `limit` UTF-16 units of a string, never ending in half a surrogate pair. */
export function clipString(text: string, limit: number): string {
  if (text.length <= limit) return text
  const code = text.charCodeAt(limit - 1)
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit)
}
