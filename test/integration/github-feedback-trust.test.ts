// Pull-request feedback against a local server playing the GitHub REST API (test/support/
// fake-github.ts), through the real @actions/github client: what the server receives is what
// GitHub would. No database, no worker: the reports are the fixtures of real runs.
// This file: the commit a check run marks, a struggling API, a token that cannot write.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { BAD_GATEWAY, FakeGitHub, secondaryRateLimit } from '../support/fake-github.js'
import { loadReportFixture, reportWith } from '../unit/report-fixtures.js'
import {
  TOKEN,
  MARKER,
  PR_NUMBER,
  HEAD_SHA,
  MERGE_SHA,
  BASE_SHA,
  COMMENTS_PATH,
  github,
  eventDir,
  checkoutAt,
  pullRequestPayload,
  actionsEnv,
  publish,
  describeRequests,
  hugeReport,
  CHECK_RUN_NAME
} from '../support/github-feedback.js'

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
