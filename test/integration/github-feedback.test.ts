// Pull-request feedback against a local server playing the GitHub REST API (test/support/
// fake-github.ts), through the real @actions/github client: what the server receives is what
// GitHub would. No database, no worker: the reports are the fixtures of real runs.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { FeedbackLog, FeedbackOptions } from '../../src/github/feedback.js'
import type { RunReport } from '../../src/report/model.js'
import { ACTIONS_BOT, BAD_GATEWAY, FakeGitHub, secondaryRateLimit, type RecordedRequest } from '../support/fake-github.js'
import { failingTest, loadReportFixture, manyGates, reportWith, reportWithTests } from '../unit/report-fixtures.js'

// @actions/github picks its proxy once, when it is first imported, for the API URL of that
// moment (api.github.com): a proxy set in this environment would then carry the requests for
// 127.0.0.1 away from the fake server. So the module is imported only once they are gone.
const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] as const
const savedProxies = PROXY_VARIABLES.map((name) => [name, process.env[name]] as const)
for (const name of PROXY_VARIABLES) delete process.env[name]
const { CHECK_RUN_NAME, publishFeedback } = await import('../../src/github/feedback.js')

const TOKEN = 'ghs_FakeInstallationToken0123456789abcdef'
const MARKER = 'celery-foundation-gates:app.celery_app@.'
const PR_NUMBER = 7
const HEAD_SHA = '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c'
const MERGE_SHA = 'aaaabbbbccccddddeeeeffff0000111122223333'
const BASE_SHA = '0123456789abcdef0123456789abcdef01234567'
const WORKFLOW = '.github/workflows/celery-foundation.yml'
const COMMENTS_PATH = `/repos/acme/shop/issues/${PR_NUMBER}/comments`

let github: FakeGitHub
let eventDir: string
/** A checkout of the pull request's head: where the gates ran, unless a test says otherwise. */
let headCheckout: string

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
class RecordingLog implements FeedbackLog {
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

interface PullRequestPayload {
  /** The repository the head branch is in; the base repository's by default. */
  headRepo?: string | null
}

/** A directory whose git checkout is at `sha` (detached, as actions/checkout leaves it), with the app in a subdirectory. */
function checkoutAt(sha: string): string {
  const dir = mkdtempSync(path.join(eventDir, 'checkout-'))
  mkdirSync(path.join(dir, '.git'))
  writeFileSync(path.join(dir, '.git', 'HEAD'), `${sha}\n`)
  mkdirSync(path.join(dir, 'app'))
  return path.join(dir, 'app')
}

/** Writes an event payload as the runner does, and returns its path. */
function writePayload(name: string, payload: unknown): string {
  const file = path.join(eventDir, `${name}.json`)
  writeFileSync(file, JSON.stringify(payload))
  return file
}

function pullRequestPayload({ headRepo = 'acme/shop' }: PullRequestPayload = {}): unknown {
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
function actionsEnv(eventName = 'pull_request', payload: unknown = pullRequestPayload()): NodeJS.ProcessEnv {
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

function options(changes: Partial<FeedbackOptions> = {}): FeedbackOptions {
  return { token: TOKEN, prComment: true, checkRun: false, marker: MARKER, workingDirectory: headCheckout, ...changes }
}

async function publish(report: RunReport, changes: Partial<FeedbackOptions> = {}, env = actionsEnv()) {
  const log = new RecordingLog()
  const outcome = await publishFeedback(report, options(changes), log, env)
  return { outcome, log }
}

function describeRequests(requests: readonly RecordedRequest[]): string[] {
  return requests.map(({ method, path: requestPath }) => `${method} ${requestPath}`)
}

/** A report far beyond GitHub's limits: 100,000 failing tests, 143 failed gates of 1,000, 135 KB of evidence each. */
function hugeReport(): RunReport {
  const taxonomy = Array.from({ length: 100_000 }, (_unused, index) => failingTest(index, 'foundation:runtime'))
  const evidence = `${'évidence '.repeat(5_000)}\n`.repeat(3)
  const details = 'traceback\n'.repeat(10_000)
  return { ...reportWithTests(taxonomy), verdict: 'fail', gates: manyGates(1_000, evidence).map((gate) => ({ ...gate, details })) }
}

describe('one comment per pull request', () => {
  it('is created by the first run and updated by the next, never posted twice', async () => {
    const other = github.addComment(PR_NUMBER, 'Coverage: 93% (no marker here)', 'coverage-bot[bot]')

    const first = await publish(loadReportFixture('all-pass'))
    expect(first.outcome.comment?.action).toBe('created')
    expect(describeRequests(github.requests)).toEqual([`GET ${COMMENTS_PATH}`, `POST ${COMMENTS_PATH}`])
    expect(github.requests[0]?.query.get('per_page')).toBe('100')
    const created = github.commentsOn(PR_NUMBER).find((comment) => comment.id === first.outcome.comment?.id)
    expect(created?.body.split('\n')[0]).toBe(`<!-- ${MARKER} -->`)
    expect(created?.body).toContain('**Verdict: ✅ PASS**')
    expect(created?.body).toContain('(<https://github.com/acme/shop/actions/runs/4242/attempts/2>)')
    expect(first.log.infos).toContain(`Pull-request comment created: ${created?.html_url}`)

    github.requests.length = 0
    const rerun = await publish(loadReportFixture('runtime-wrong-password'))
    expect(rerun.outcome.comment).toEqual({ action: 'updated', id: first.outcome.comment?.id, url: created?.html_url })
    // A marked comment is adopted only once the token has said who it is (GraphQL's viewer).
    expect(describeRequests(github.requests)).toEqual([
      `GET ${COMMENTS_PATH}`,
      'POST /graphql',
      `PATCH /repos/acme/shop/issues/comments/${first.outcome.comment?.id}`
    ])
    expect(github.commentsOn(PR_NUMBER)).toHaveLength(2)
    expect(created?.body).toContain('**Verdict: ❌ FAIL**')
    // The other tool's comment is left as it was.
    expect(other.body).toBe('Coverage: 93% (no marker here)')
    expect(github.writes().some((request) => request.path.endsWith(`/${other.id}`))).toBe(false)
    expect([...first.log.warnings, ...rerun.log.warnings]).toEqual([])
  })

  it('keeps a comment of its own for each marker', async () => {
    const first = await publish(loadReportFixture('all-pass'))
    const second = await publish(loadReportFixture('all-pass'), { marker: `${MARKER}:worker-b` })
    expect(second.outcome.comment?.action).toBe('created')
    expect(second.outcome.comment?.id).not.toBe(first.outcome.comment?.id)
    const again = await publish(loadReportFixture('runtime-wrong-password'), { marker: `${MARKER}:worker-b` })
    expect(again.outcome.comment).toMatchObject({ action: 'updated', id: second.outcome.comment?.id })
    expect(github.writes().filter((request) => request.method === 'POST')).toHaveLength(2)
    expect(github.commentsOn(PR_NUMBER).find((comment) => comment.id === first.outcome.comment?.id)?.body).toContain('✅ PASS')
  })

  it('finds its comment on a later page of a long conversation', async () => {
    for (let index = 0; index < 150; index++) github.addComment(PR_NUMBER, `comment ${index}`, 'someone')
    const first = await publish(loadReportFixture('all-pass'))
    for (let index = 0; index < 60; index++) github.addComment(PR_NUMBER, `later comment ${index}`, 'someone')
    github.requests.length = 0

    const rerun = await publish(loadReportFixture('all-pass'))
    expect(rerun.outcome.comment).toMatchObject({ action: 'updated', id: first.outcome.comment?.id })
    const pages = github.requests.filter((request) => request.method === 'GET').map((request) => request.query.get('page') ?? '1')
    expect(pages).toEqual(['1', '2', '3'])
    expect(github.requests.filter((request) => request.method === 'GET').every((request) => request.query.get('per_page') === '100')).toBe(true)
  })

  it('prefers its own comment when several carry the marker', async () => {
    const copy = github.addComment(PR_NUMBER, `Quoting the bot:\n<!-- ${MARKER} -->\nold`, 'reviewer')
    const own = github.addComment(PR_NUMBER, `<!-- ${MARKER} -->\nold verdict`, ACTIONS_BOT)
    const { outcome } = await publish(loadReportFixture('all-pass'))
    expect(outcome.comment).toMatchObject({ action: 'updated', id: own.id })
    expect(copy.body).toBe(`Quoting the bot:\n<!-- ${MARKER} -->\nold`)
    // GraphQL's viewer names an installation token's bot; GET /user is not needed.
    expect(describeRequests(github.requests)).toContain('POST /graphql')
    expect(describeRequests(github.requests)).not.toContain('GET /user')
  })

  it("leaves a comment alone that carries the marker but is someone else's, and says so", async () => {
    const planted = github.addComment(PR_NUMBER, `<!-- ${MARKER} -->\n**Verdict: ✅ PASS** (written by hand)`, 'mallory')
    const { outcome, log } = await publish(loadReportFixture('runtime-wrong-password'))
    expect(outcome.comment?.action).toBe('created')
    expect(outcome.comment?.id).not.toBe(planted.id)
    expect(planted.body).toBe(`<!-- ${MARKER} -->\n**Verdict: ✅ PASS** (written by hand)`)
    expect(github.writes().some((request) => request.path.endsWith(`/${planted.id}`))).toBe(false)
    expect(log.infos).toContain("A comment carrying this step's marker by mallory was ignored: only comments this token's own account wrote are updated.")
    expect(log.warnings).toEqual([])
    // The next run adopts its own comment, still not the planted one.
    const rerun = await publish(loadReportFixture('all-pass'))
    expect(rerun.outcome.comment).toMatchObject({ action: 'updated', id: outcome.comment?.id })
  })

  it('does not take a bot for the token because it is a bot: only the token’s own identity counts', async () => {
    github.addComment(PR_NUMBER, `<!-- ${MARKER} -->\nby another app`, 'other-app[bot]')
    const { outcome, log } = await publish(loadReportFixture('all-pass'))
    expect(outcome.comment?.action).toBe('created')
    expect(log.infos.some((line) => line.includes('by other-app[bot] was ignored'))).toBe(true)
  })

  it('asks GET /user when GraphQL does not answer, and updates the PAT user’s comment', async () => {
    github.graphql = false
    try {
      github.logins.set(TOKEN, 'release-bot-user')
      github.addComment(PR_NUMBER, `<!-- ${MARKER} -->\nby the workflow token`, ACTIONS_BOT)
      const mine = github.addComment(PR_NUMBER, `<!-- ${MARKER} -->\nby the PAT`, 'release-bot-user')
      const { outcome } = await publish(loadReportFixture('all-pass'))
      expect(outcome.comment).toMatchObject({ action: 'updated', id: mine.id })
      expect(describeRequests(github.requests)).toEqual(expect.arrayContaining(['POST /graphql', 'GET /user']))
    } finally {
      github.graphql = true
    }
  })

  it('takes the token for the workflow’s own when neither GraphQL nor GET /user says who it is', async () => {
    github.graphql = false
    try {
      const own = github.addComment(PR_NUMBER, `<!-- ${MARKER} -->\nold verdict`, ACTIONS_BOT)
      const { outcome, log } = await publish(loadReportFixture('all-pass'))
      expect(outcome.comment).toMatchObject({ action: 'updated', id: own.id })
      expect(log.warnings).toEqual([])
    } finally {
      github.graphql = true
    }
  })

  it("prefers the token's user's comment when the token can say who it is", async () => {
    github.logins.set(TOKEN, 'release-bot-user')
    github.addComment(PR_NUMBER, `<!-- ${MARKER} -->\nby the workflow token`, ACTIONS_BOT)
    const mine = github.addComment(PR_NUMBER, `<!-- ${MARKER} -->\nby the PAT`, 'release-bot-user')
    const { outcome, log } = await publish(loadReportFixture('all-pass'))
    expect(outcome.comment).toMatchObject({ action: 'updated', id: mine.id })
    expect(log.warnings).toEqual([])
  })

  it('is not written on events other than pull requests, where a check run still is', async () => {
    const env = { ...actionsEnv('push', { ref: 'refs/heads/main' }), GITHUB_WORKFLOW_REF: undefined }
    const { outcome, log } = await publish(loadReportFixture('runtime-wrong-password'), { checkRun: true, workingDirectory: checkoutAt(MERGE_SHA) }, env)
    expect(outcome.comment).toBeUndefined()
    expect(outcome.checkRun?.conclusion).toBe('failure')
    expect(describeRequests(github.requests)).toEqual(['POST /repos/acme/shop/check-runs'])
    expect(github.checkRuns[0]?.['head_sha']).toBe(MERGE_SHA)
    // Without the workflow file, annotations point at the .github directory.
    expect(github.checkRuns[0]?.['output']).toMatchObject({ annotations: [{ path: '.github', title: 'runtime failed' }] })
    expect(log.infos).toContain('No pull-request comment: this run is for a push event, not a pull request.')
    expect(log.warnings).toEqual([])
  })
})

describe('the check run', () => {
  it.each([
    ['all-pass', 'success'],
    ['runtime-wrong-password', 'failure'],
    ['cancelled', 'cancelled']
  ] as const)('concludes the %s run with %s', async (fixture, conclusion) => {
    const report = loadReportFixture(fixture)
    const { outcome, log } = await publish(report, { prComment: false, checkRun: true })
    expect(outcome).toEqual({ checkRun: { id: github.checkRuns[0]?.id, conclusion } })
    expect(describeRequests(github.requests)).toEqual(['POST /repos/acme/shop/check-runs'])
    expect(github.checkRuns).toHaveLength(1)
    const run = github.checkRuns[0]!
    expect(run).toMatchObject({
      name: CHECK_RUN_NAME,
      head_sha: HEAD_SHA,
      status: 'completed',
      conclusion,
      started_at: report.startedAt,
      completed_at: report.finishedAt,
      external_id: report.runId,
      details_url: 'https://github.com/acme/shop/actions/runs/4242/attempts/2'
    })
    expect(CHECK_RUN_NAME).toBe('Celery foundation gates')
    const output = run['output'] as { title: string; summary: string; text: string; annotations: Array<Record<string, unknown>> }
    expect(output.title).toMatch(conclusion === 'success' ? /^PASS — / : /^FAIL/)
    expect(output.summary).toContain('| Gate | Description | Status | Evidence |')
    expect(output.summary.length).toBeLessThanOrEqual(65_535)
    expect(output.text.length).toBeLessThanOrEqual(65_535)
    const failed = report.gates.filter((gate) => gate.status === 'fail')
    expect(output.annotations.map((annotation) => annotation['title'])).toEqual(failed.map((gate) => `${gate.id} failed`))
    for (const annotation of output.annotations) expect(annotation).toMatchObject({ path: WORKFLOW, start_line: 1, end_line: 1, annotation_level: 'failure' })
    expect(log.warnings).toEqual([])
  })

  it('is published with the comment when both are asked for', async () => {
    const { outcome } = await publish(loadReportFixture('runtime-wrong-password'), { checkRun: true })
    expect(outcome.comment?.action).toBe('created')
    expect(outcome.checkRun?.conclusion).toBe('failure')
    expect(outcome.skipped).toBeUndefined()
  })
})

describe('the commit a check run marks', () => {
  const targetEnv = (): NodeJS.ProcessEnv => ({ ...actionsEnv('pull_request_target'), GITHUB_SHA: BASE_SHA })

  it('is not the head on pull_request_target when the base was checked out: no check run, and the comment says so', async () => {
    const { outcome, log } = await publish(loadReportFixture('all-pass'), { checkRun: true, workingDirectory: checkoutAt(BASE_SHA) }, targetEnv())
    expect(github.checkRuns).toEqual([])
    expect(describeRequests(github.writes())).toEqual([`POST ${COMMENTS_PATH}`])
    const sentence = `these gates ran on ${BASE_SHA}, not on the pull request's head ${HEAD_SHA}`
    expect(log.warnings).toEqual([expect.stringContaining(`Celery foundation gates: ${sentence}: no check run was created for ${HEAD_SHA}.`)])
    expect(outcome.checkRun).toBeUndefined()
    expect(outcome.skipped).toBe(`check run: ${sentence}`)
    const [comment] = github.commentsOn(PR_NUMBER)
    expect(comment?.body.split('\n')[1]).toBe(
      `> ⚠️ **These gates ran on <code>${BASE_SHA}</code>, not on the pull request&#39;s head <code>${HEAD_SHA}</code>.**`
    )
  })

  it('writes the same notice into the job summary', async () => {
    const summary = path.join(eventDir, `summary-${Math.random().toString(36).slice(2)}.md`)
    writeFileSync(summary, '## Celery foundation gates\n')
    await publish(loadReportFixture('all-pass'), { checkRun: true, workingDirectory: checkoutAt(BASE_SHA) }, { ...targetEnv(), GITHUB_STEP_SUMMARY: summary })
    expect(readFileSync(summary, 'utf8')).toBe(
      `## Celery foundation gates\n\n> ⚠️ **These gates ran on <code>${BASE_SHA}</code>, not on the pull request&#39;s head <code>${HEAD_SHA}</code>.**\n`
    )
  })

  it('is the head on pull_request, whose checkout is the merge commit GitHub made for the pull request', async () => {
    const { outcome, log } = await publish(loadReportFixture('all-pass'), { checkRun: true, prComment: false, workingDirectory: checkoutAt(MERGE_SHA) })
    expect(outcome.checkRun?.conclusion).toBe('success')
    expect(github.checkRuns[0]?.['head_sha']).toBe(HEAD_SHA)
    expect(log.infos).toContain(`Check run "${CHECK_RUN_NAME}" created on ${HEAD_SHA} (the gates ran on ${MERGE_SHA}, the merge of the pull request): success.`)
    expect(log.warnings).toEqual([])
  })

  it('is the head on pull_request_target when a merge of the head (refs/pull/N/merge) was checked out', async () => {
    const repo = mkdtempSync(path.join(eventDir, 'repo-'))
    const git = (...args: string[]): string =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], {
        cwd: repo,
        encoding: 'utf8'
      }).trim()
    git('init', '--quiet')
    git('commit', '--quiet', '--allow-empty', '-m', 'base')
    const base = git('rev-parse', 'HEAD')
    git('checkout', '--quiet', '-b', 'feature')
    git('commit', '--quiet', '--allow-empty', '-m', 'head')
    const head = git('rev-parse', 'HEAD')
    git('checkout', '--quiet', '--detach', base)
    git('merge', '--quiet', '--no-ff', '-m', 'merge', head)
    const payload = pullRequestPayload() as { pull_request: { head: { sha: string } } }
    payload.pull_request.head.sha = head
    const env = { ...actionsEnv('pull_request_target', payload), GITHUB_SHA: base }
    const { outcome, log } = await publish(loadReportFixture('all-pass'), { checkRun: true, prComment: false, workingDirectory: repo }, env)
    expect(outcome.checkRun?.conclusion).toBe('success')
    expect(github.checkRuns[0]?.['head_sha']).toBe(head)
    expect(log.warnings).toEqual([])
  })

  it('is not marked when it cannot be told which commit ran (no git checkout)', async () => {
    const plain = mkdtempSync(path.join(tmpdir(), 'cfg-no-git-'))
    try {
      const { outcome, log } = await publish(loadReportFixture('all-pass'), { checkRun: true, prComment: false, workingDirectory: plain })
      expect(github.requests).toEqual([])
      expect(outcome.skipped).toMatch(/^check run: which commit these gates ran on is not known \(.* is not inside a git checkout\)/)
      expect(log.warnings).toHaveLength(1)
    } finally {
      rmSync(plain, { recursive: true, force: true })
    }
  })

  it('follows a symbolic HEAD to its packed ref, as in a branch checkout', async () => {
    const dir = mkdtempSync(path.join(eventDir, 'branch-'))
    mkdirSync(path.join(dir, '.git'))
    writeFileSync(path.join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n')
    writeFileSync(path.join(dir, '.git', 'packed-refs'), `# pack-refs with: peeled fully-peeled sorted\n${MERGE_SHA} refs/heads/main\n`)
    const env = { ...actionsEnv('push', { ref: 'refs/heads/main' }) }
    const { outcome } = await publish(loadReportFixture('all-pass'), { checkRun: true, workingDirectory: dir }, env)
    expect(outcome.checkRun?.conclusion).toBe('success')
    expect(github.checkRuns[0]?.['head_sha']).toBe(MERGE_SHA)
  })
})

describe('a struggling API', () => {
  it('is retried after a 502, and the comment is written with no warning', async () => {
    github.failNext(1, BAD_GATEWAY)
    const { outcome, log } = await publish(loadReportFixture('all-pass'), { checkRun: true })
    expect(outcome.comment?.action).toBe('created')
    expect(outcome.checkRun?.conclusion).toBe('success')
    expect(describeRequests(github.requests).slice(0, 2)).toEqual([`GET ${COMMENTS_PATH}`, `GET ${COMMENTS_PATH}`])
    expect(log.warnings).toEqual([])
  })

  it('waits out a secondary rate limit as retry-after says, then writes', async () => {
    github.failNext(1, secondaryRateLimit(1))
    const { outcome, log } = await publish(loadReportFixture('all-pass'))
    expect(outcome.comment?.action).toBe('created')
    expect(log.warnings).toEqual([])
  })

  it('does not wait for a rate limit that lasts past the deadline: one warning, at once', async () => {
    github.failNext(Infinity, secondaryRateLimit(3_600))
    const started = performance.now()
    const { outcome, log } = await publish(loadReportFixture('all-pass'), { checkRun: true, timeoutMs: 10_000 })
    expect(performance.now() - started).toBeLessThan(10_000)
    expect(log.warnings).toHaveLength(1)
    expect(log.warnings[0]).toMatch(/pull-request comment: GitHub's rate limit \(HTTP 429: You have exceeded a secondary rate limit/)
    expect(outcome.comment).toBeUndefined()
    github.recover()
  })

  it('gives up on a 500 that lasts, within the deadline, with one warning', async () => {
    github.failNext(Infinity, { status: 500, message: 'Internal Server Error' })
    const started = performance.now()
    const { outcome, log } = await publish(loadReportFixture('all-pass'), { checkRun: true, timeoutMs: 4_000 })
    expect(performance.now() - started).toBeLessThan(4_000 + 2_000)
    expect(log.warnings).toHaveLength(1)
    expect(log.warnings[0]).toMatch(
      /^Pull-request feedback went to the job summary only — pull-request comment: HTTP 500: Internal Server Error.*; check run: HTTP 500/
    )
    expect(outcome.comment).toBeUndefined()
    expect(outcome.checkRun).toBeUndefined()
    // Each request was tried more than once, and none after the deadline.
    expect(github.requests.filter((request) => request.path === COMMENTS_PATH).length).toBeGreaterThan(1)
    github.recover()
  })
})

describe('when the token cannot write', () => {
  it('writes nothing for a pull request from a fork, and says so once', async () => {
    const env = actionsEnv('pull_request', pullRequestPayload({ headRepo: 'forker/shop' }))
    const { outcome, log } = await publish(loadReportFixture('runtime-wrong-password'), { checkRun: true }, env)
    expect(github.writes()).toEqual([])
    expect(github.requests).toEqual([])
    expect(log.warnings).toHaveLength(1)
    expect(log.warnings[0]).toMatch(/^Pull-request feedback went to the job summary only: the pull request comes from the fork forker\/shop, .*read-only token/)
    expect(outcome.comment).toBeUndefined()
    expect(outcome.checkRun).toBeUndefined()
    expect(outcome.skipped).toMatch(/fork forker\/shop/)
  })

  it('treats a pull request whose fork was deleted as a fork', async () => {
    const env = actionsEnv('pull_request', pullRequestPayload({ headRepo: null }))
    const { outcome, log } = await publish(loadReportFixture('all-pass'), {}, env)
    expect(github.requests).toEqual([])
    expect(log.warnings).toHaveLength(1)
    expect(outcome.skipped).toMatch(/a deleted repository/)
  })

  it('writes on pull_request_target from a fork, whose token is the base repository’s', async () => {
    // The workflow checked out the pull request's head: what ran is the head, which may be marked.
    const env = { ...actionsEnv('pull_request_target', pullRequestPayload({ headRepo: 'forker/shop' })), GITHUB_SHA: BASE_SHA }
    const { outcome, log } = await publish(loadReportFixture('all-pass'), { checkRun: true }, env)
    expect(outcome.comment?.action).toBe('created')
    expect(github.checkRuns[0]?.['head_sha']).toBe(HEAD_SHA)
    expect(log.warnings).toEqual([])
  })

  it('turns a 403 on every write into one warning, without throwing', async () => {
    github.refuse = (request) => (request.method === 'GET' ? undefined : { status: 403, message: 'Resource not accessible by integration' })
    const { outcome, log } = await publish(loadReportFixture('runtime-wrong-password'), { checkRun: true })
    // Both were tried (each needs its own permission), and one warning covers both.
    expect(describeRequests(github.writes())).toEqual([`POST ${COMMENTS_PATH}`, 'POST /repos/acme/shop/check-runs'])
    expect(log.warnings).toHaveLength(1)
    expect(log.warnings[0]).toMatch(
      /^Pull-request feedback went to the job summary only — pull-request comment: the token may not write it \(HTTP 403: Resource not accessible by integration\); the job needs `permissions: pull-requests: write`.*; check run: .*`permissions: checks: write`/
    )
    expect(outcome.comment).toBeUndefined()
    expect(outcome.checkRun).toBeUndefined()
    expect(outcome.skipped).toMatch(/HTTP 403/)
  })

  it('says what was published when only part of it was refused', async () => {
    github.refuse = (request) => (request.path.endsWith('/check-runs') ? { status: 403, message: 'Resource not accessible by integration' } : undefined)
    const { outcome, log } = await publish(loadReportFixture('all-pass'), { checkRun: true })
    expect(outcome.comment?.action).toBe('created')
    expect(outcome.checkRun).toBeUndefined()
    expect(log.warnings).toEqual([
      expect.stringMatching(/^Part of the pull-request feedback went to the job summary only — check run: the token may not write it \(HTTP 403/)
    ])
  })

  it('turns a 404 on reading the comments into one warning', async () => {
    github.refuse = () => ({ status: 404, message: 'Not Found' })
    const { outcome, log } = await publish(loadReportFixture('all-pass'))
    expect(github.writes()).toEqual([])
    expect(log.warnings).toHaveLength(1)
    expect(log.warnings[0]).toContain('HTTP 404')
    expect(outcome.skipped).toMatch(/^pull-request comment: the token may not write it \(HTTP 404/)
  })
})

describe('never failing the step', () => {
  it('warns once when the API cannot be reached', async () => {
    const closed = await FakeGitHub.start()
    const env = { ...actionsEnv(), GITHUB_API_URL: closed.url }
    await closed.stop()
    // A refused connection is retried like a 502; the deadline keeps the retries short here.
    const { outcome, log } = await publish(loadReportFixture('all-pass'), { checkRun: true, timeoutMs: 3_000 }, env)
    expect(log.warnings).toHaveLength(1)
    expect(outcome.comment).toBeUndefined()
    expect(outcome.skipped).toMatch(/^pull-request comment: .+; check run: .+/)
  })

  it('gives up on an API that does not answer, at the deadline', async () => {
    github.hang = () => true
    const started = performance.now()
    const { outcome, log } = await publish(loadReportFixture('all-pass'), { checkRun: true, timeoutMs: 500 })
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(log.warnings).toHaveLength(1)
    expect(log.warnings[0]).toContain('no answer in time')
    expect(outcome.skipped).toBeDefined()
  })

  it('warns once when the run is not on GitHub Actions', async () => {
    const env = { ...actionsEnv(), GITHUB_REPOSITORY: '' }
    const { outcome, log } = await publish(loadReportFixture('all-pass'), { checkRun: true }, env)
    expect(github.requests).toEqual([])
    expect(log.warnings).toEqual(['Pull-request feedback went to the job summary only: GITHUB_REPOSITORY is not set (not running on GitHub Actions?).'])
    expect(outcome.skipped).toBeDefined()
  })

  it('warns once when the event payload cannot be read, and still creates the check run', async () => {
    const env = { ...actionsEnv(), GITHUB_EVENT_PATH: path.join(eventDir, 'missing.json') }
    const { outcome, log } = await publish(loadReportFixture('all-pass'), { checkRun: true, workingDirectory: checkoutAt(MERGE_SHA) }, env)
    expect(outcome.checkRun?.conclusion).toBe('success')
    expect(github.checkRuns[0]?.['head_sha']).toBe(MERGE_SHA)
    expect(log.warnings).toEqual([
      expect.stringMatching(
        /^Part of the pull-request feedback went to the job summary only — pull-request comment: the event payload \(GITHUB_EVENT_PATH\) could not be read: ENOENT/
      )
    ])
  })

  it('warns once and returns when the marker is unusable', async () => {
    const { outcome, log } = await publish(loadReportFixture('all-pass'), { marker: ' ' })
    expect(log.warnings).toHaveLength(1)
    expect(outcome.skipped).toMatch(/comment marker/)
  })

  it('sends nothing and says nothing alarming when neither kind of feedback is asked for', async () => {
    const { outcome, log } = await publish(loadReportFixture('all-pass'), { prComment: false, checkRun: false })
    expect(github.requests).toEqual([])
    expect(log.warnings).toEqual([])
    expect(outcome.skipped).toBeDefined()
  })
})

describe("GitHub's limits", () => {
  it('are enforced by the fake server as GitHub enforces them (422), so staying within them is checked twice', async () => {
    const post = (route: string, body: unknown) =>
      fetch(`${github.url}${route}`, { method: 'POST', headers: { authorization: `token ${TOKEN}` }, body: JSON.stringify(body) })
    expect((await post(COMMENTS_PATH, { body: 'x'.repeat(65_537) })).status).toBe(422)
    const output = {
      title: 't',
      summary: 's',
      annotations: Array.from({ length: 51 }, () => ({ path: 'p', start_line: 1, end_line: 1, annotation_level: 'failure', message: 'm' }))
    }
    expect((await post('/repos/acme/shop/check-runs', { name: 'n', head_sha: HEAD_SHA, output })).status).toBe(422)
    expect((await post('/repos/acme/shop/check-runs', { name: 'n', head_sha: HEAD_SHA, output: { title: 't', summary: 'x'.repeat(65_536) } })).status).toBe(422)
    expect(github.comments).toEqual([])
    expect(github.checkRuns).toEqual([])
  })

  it('keeps a huge report within them: comment, check-run summary and text, annotations', async () => {
    const { outcome, log } = await publish(hugeReport(), { checkRun: true })
    expect(log.warnings).toEqual([])
    expect(outcome.comment?.action).toBe('created')
    const [comment] = github.commentsOn(PR_NUMBER)
    expect(comment!.body.length).toBeLessThanOrEqual(65_536)
    expect([...comment!.body].length).toBeLessThanOrEqual(65_536)
    expect(comment!.body.startsWith(`<!-- ${MARKER} -->\n`)).toBe(true)
    expect(comment!.body).toContain("_Matrix trimmed to fit GitHub's limit for a pull-request comment: ")

    const output = github.checkRuns[0]!['output'] as { summary: string; text: string; annotations: unknown[] }
    expect(output.summary.length).toBeLessThanOrEqual(65_535)
    expect(output.text.length).toBeLessThanOrEqual(65_535)
    expect(output.annotations).toHaveLength(50)

    // A rerun of the same huge report finds the marker in the trimmed comment and updates it.
    const rerun = await publish(hugeReport())
    expect(rerun.outcome.comment).toMatchObject({ action: 'updated', id: comment!.id })
  })
})

describe('the token', () => {
  it('authorizes every request and appears in no log line', async () => {
    github.refuse = (request) => (request.path.endsWith('/check-runs') ? { status: 401, message: `Bad credentials: ${TOKEN}` } : undefined)
    const { log } = await publish(loadReportFixture('runtime-wrong-password'), { checkRun: true })
    expect(github.requests.length).toBeGreaterThanOrEqual(3)
    for (const request of github.requests) expect(request.authorization).toBe(`token ${TOKEN}`)
    // The server echoed the token in its error; the warning quotes the error, masked.
    expect(log.warnings).toHaveLength(1)
    expect(log.warnings[0]).toContain('Bad credentials: ***')
    for (const line of log.lines) expect(line).not.toContain(TOKEN)
  })

  it('is masked, with every secret the caller redacts, in what is sent', async () => {
    const report = reportWith({
      verdict: 'fail',
      gateChanges: { runtime: { status: 'fail', evidence: `token ${TOKEN} and password hunter2 leaked` } }
    })
    await publish(report, { checkRun: true, redact: (text) => text.replaceAll('hunter2', '***') })
    const sent = JSON.stringify(github.writes().map((request) => request.body))
    expect(sent).toContain('token *** and password *** leaked')
    expect(sent).not.toContain(TOKEN)
    expect(sent).not.toContain('hunter2')
  })
})
