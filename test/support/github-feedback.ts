// What the pull-request feedback tests share: a fake GitHub started once per test file and reset
// before each test, the runner's environment and event payloads pointed at it, checkouts at a
// commit, and the feedback published with a recording log.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest'
import type { FeedbackLog, FeedbackOptions } from '../../src/github/feedback.js'
import type { RunReport } from '../../src/report/model.js'
import { FakeGitHub, type RecordedRequest } from './fake-github.js'
import { failingTest, manyGates, reportWithTests } from '../unit/report-fixtures.js'

// @actions/github picks its proxy once, when it is first imported, for the API URL of that
// moment (api.github.com): a proxy set in this environment would then carry the requests for
// 127.0.0.1 away from the fake server. So the module is imported only once they are gone.
export const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] as const
export const savedProxies = PROXY_VARIABLES.map((name) => [name, process.env[name]] as const)
for (const name of PROXY_VARIABLES) delete process.env[name]
export const { CHECK_RUN_NAME, publishFeedback } = await import('../../src/github/feedback.js')

export const TOKEN = 'ghs_FakeInstallationToken0123456789abcdef'
export const MARKER = 'celery-foundation-gates:app.celery_app@.'
export const PR_NUMBER = 7
export const HEAD_SHA = '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c'
export const MERGE_SHA = 'aaaabbbbccccddddeeeeffff0000111122223333'
export const BASE_SHA = '0123456789abcdef0123456789abcdef01234567'
export const WORKFLOW = '.github/workflows/celery-foundation.yml'
export const COMMENTS_PATH = `/repos/acme/shop/issues/${PR_NUMBER}/comments`

export let github: FakeGitHub
export let eventDir: string
/** A checkout of the pull request's head: where the gates ran, unless a test says otherwise. */
export let headCheckout: string

beforeAll(async () => {
  github = await FakeGitHub.start()
  eventDir = mkdtempSync(path.join(tmpdir(), 'cfg-feedback-'))
  headCheckout = checkoutAt(HEAD_SHA)
})

afterAll(async () => {
  await github?.stop()
  rmSync(eventDir, { recursive: true, force: true })
  for (const [name, value] of savedProxies) if (value !== undefined) process.env[name] = value
})

beforeEach(() => {
  github.requests.length = 0
  github.comments.length = 0
  github.checkRuns.length = 0
  github.logins.clear()
  github.refuse = () => undefined
  github.hang = () => false
  github.recover()
})

afterEach(() => {
  // Whatever a test checks, every request it made must carry the token.
  for (const request of github.requests) expect(request.authorization).toBe(`token ${TOKEN}`)
})

/** The log lines a run printed, by level. */
export class RecordingLog implements FeedbackLog {
  readonly infos: string[] = []
  readonly warnings: string[] = []
  info(message: string): void {
    this.infos.push(message)
  }
  warning(message: string): void {
    this.warnings.push(message)
  }
  get lines(): string[] {
    return [...this.infos, ...this.warnings]
  }
}

export interface PullRequestPayload {
  /** The repository the head branch is in; the base repository's by default. */
  headRepo?: string | null
}

/** A directory whose git checkout is at `sha` (detached, as actions/checkout leaves it), with the app in a subdirectory. */
export function checkoutAt(sha: string): string {
  const dir = mkdtempSync(path.join(eventDir, 'checkout-'))
  mkdirSync(path.join(dir, '.git'))
  writeFileSync(path.join(dir, '.git', 'HEAD'), `${sha}\n`)
  mkdirSync(path.join(dir, 'app'))
  return path.join(dir, 'app')
}

/** Writes an event payload as the runner does, and returns its path. */
export function writePayload(name: string, payload: unknown): string {
  const file = path.join(eventDir, `${name}.json`)
  writeFileSync(file, JSON.stringify(payload))
  return file
}

export function pullRequestPayload({ headRepo = 'acme/shop' }: PullRequestPayload = {}): unknown {
  return {
    action: 'synchronize',
    number: PR_NUMBER,
    pull_request: {
      number: PR_NUMBER,
      head: { sha: HEAD_SHA, ref: 'feature', repo: headRepo === null ? null : { full_name: headRepo } },
      base: { sha: BASE_SHA, ref: 'main', repo: { full_name: 'acme/shop' } }
    },
    repository: { full_name: 'acme/shop', name: 'shop', owner: { login: 'acme' } }
  }
}

/** The environment the runner gives a step, pointed at the fake server. */
export function actionsEnv(eventName = 'pull_request', payload: unknown = pullRequestPayload()): NodeJS.ProcessEnv {
  return {
    GITHUB_EVENT_NAME: eventName,
    GITHUB_EVENT_PATH: writePayload(`${eventName}-${Math.random().toString(36).slice(2)}`, payload),
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_API_URL: github.url,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '2',
    GITHUB_SHA: MERGE_SHA,
    GITHUB_WORKFLOW_REF: `acme/shop/${WORKFLOW}@refs/pull/${PR_NUMBER}/merge`
  }
}

export function options(changes: Partial<FeedbackOptions> = {}): FeedbackOptions {
  return { token: TOKEN, prComment: true, checkRun: false, marker: MARKER, workingDirectory: headCheckout, ...changes }
}

export async function publish(report: RunReport, changes: Partial<FeedbackOptions> = {}, env = actionsEnv()) {
  const log = new RecordingLog()
  const outcome = await publishFeedback(report, options(changes), log, env)
  return { outcome, log }
}

export function describeRequests(requests: readonly RecordedRequest[]): string[] {
  return requests.map(({ method, path: requestPath }) => `${method} ${requestPath}`)
}

/** A report far beyond GitHub's limits: 100,000 failing tests, 143 failed gates of 1,000, 135 KB of evidence each. */
export function hugeReport(): RunReport {
  const taxonomy = Array.from({ length: 100_000 }, (_unused, index) => failingTest(index, 'foundation:runtime'))
  const evidence = `${'évidence '.repeat(5_000)}\n`.repeat(3)
  const details = 'traceback\n'.repeat(10_000)
  return { ...reportWithTests(taxonomy), verdict: 'fail', gates: manyGates(1_000, evidence).map((gate) => ({ ...gate, details })) }
}
