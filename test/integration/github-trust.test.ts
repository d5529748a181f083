// What the action trusts on GitHub, proven through the bundled action as the runner runs it (real
// PostgreSQL, a real worker, a local server playing the GitHub API): a struggling API costs a
// bounded wait and at most one warning, never the step; a comment someone else planted with the
// marker is left alone; and a pull request's head is never marked by gates that ran on other code.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { REPO, type ActionResult } from '../support/action.js'
import { exampleDatabase, runOnExample, type ExampleDatabase } from '../support/example.js'
import { ACTIONS_BOT, BAD_GATEWAY, FakeGitHub, secondaryRateLimit } from '../support/fake-github.js'
import { checkStep } from '../support/reliability.js'
import { TestPostgres } from '../support/postgres.js'

const TOKEN = 'ghs_trustTokenThatMustNeverBePrinted0002'
const PR = 23
/** The commit the example app is checked out at (this repository's HEAD). */
const CHECKED_OUT = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim()
const OTHER_HEAD = '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c'
const MARKER_LINE = '<!-- celery-foundation-gates:app.celery_app@examples/tenant-app -->'
const COMMENTS_PATH = `/repos/acme/shop/issues/${PR}/comments`
/** The step's timeout input (30 s in runOnExample) plus the feedback deadline (30 s). */
const STEP_BOUND_S = 60

let pg: TestPostgres
let github: FakeGitHub
let db: ExampleDatabase

beforeAll(async () => {
  pg = await TestPostgres.start()
  github = await FakeGitHub.start()
  db = await exampleDatabase(pg)
})
afterAll(async () => {
  await github?.stop()
  await pg?.destroy()
})
beforeEach(() => {
  github.comments.length = 0
  github.checkRuns.length = 0
  github.logins.clear()
  github.recover()
})

function eventEnv({ event = 'pull_request', head = CHECKED_OUT, runSha = 'b'.repeat(40) } = {}): Record<string, string> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'cfg-event-')), 'event.json')
  writeFileSync(
    file,
    JSON.stringify({
      number: PR,
      pull_request: { number: PR, head: { sha: head, repo: { full_name: 'acme/shop' } }, base: { repo: { full_name: 'acme/shop' } } },
      repository: { full_name: 'acme/shop' }
    })
  )
  return {
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: file,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_API_URL: github.url,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '77',
    GITHUB_SHA: runSha,
    GITHUB_WORKFLOW_REF: `acme/shop/.github/workflows/celery.yml@refs/pull/${PR}/merge`
  }
}

function runWithFeedback(env: Record<string, string> = eventEnv()): Promise<ActionResult> {
  return runOnExample('5.7', db, { 'github-token': TOKEN, 'check-run': 'true' }, { env: { ...env, DATABASE_URL: db.url } })
}

const warnings = (result: ActionResult): string[] => result.stdout.split('\n').filter((line) => line.startsWith('::warning'))
const writesSince = (mark: number): string[] =>
  github
    .writes()
    .filter((request) => github.requests.indexOf(request) >= mark)
    .map((request) => `${request.method} ${request.path}`)
const secrets = (): string[] => [TOKEN, db.password]

describe('a struggling GitHub API', () => {
  it('is retried after a 502: the comment and the check run are written, with no warning', async () => {
    const mark = github.requests.length
    github.failNext(1, BAD_GATEWAY)
    const result = await runWithFeedback()
    // What the case is about first: a row is recorded only when it holds, with the step's invariants.
    expect(warnings(result), result.stdout.slice(-2000)).toEqual([])
    expect(github.commentsOn(PR)).toHaveLength(1)
    expect(github.checkRuns).toHaveLength(1)
    expect(github.requests.slice(mark, mark + 2).map((request) => `${request.method} ${request.path}`)).toEqual([
      `GET ${COMMENTS_PATH}`,
      `GET ${COMMENTS_PATH}`
    ])
    checkStep(
      'Trust',
      'GitHub API answers 502 once',
      result,
      { code: 0, gates: { runtime: 'pass' }, secrets: secrets(), timeoutS: STEP_BOUND_S },
      'retried after a second; comment and check run written; no warning'
    )
  })

  it('waits out a secondary rate limit (429, retry-after), then writes, with no warning', async () => {
    github.failNext(1, secondaryRateLimit(2))
    const result = await runWithFeedback()
    expect(warnings(result)).toEqual([])
    expect(github.commentsOn(PR)).toHaveLength(1)
    checkStep(
      'Trust',
      'GitHub API: secondary rate limit (429, retry-after: 2)',
      result,
      { code: 0, gates: { runtime: 'pass' }, secrets: secrets(), timeoutS: STEP_BOUND_S },
      'waits the 2 s GitHub asks, then writes; no warning'
    )
  })

  it('answering 500 to everything costs one warning and a bounded wait, never the step', async () => {
    github.failNext(Infinity, { status: 500, message: 'Internal Server Error' })
    const result = await runWithFeedback()
    github.recover()
    expect(warnings(result)).toHaveLength(1)
    expect(warnings(result)[0]).toMatch(/pull-request comment: HTTP 500: Internal Server Error.*check run: HTTP 500/)
    expect(github.comments).toEqual([])
    checkStep(
      'Trust',
      'GitHub API answers 500 to every request',
      result,
      { code: 0, gates: { runtime: 'pass' }, secrets: secrets(), timeoutS: STEP_BOUND_S },
      'exit 0 as the gates say; one warning; ends within the feedback deadline'
    )
  })
})

describe("the pull request's comment", () => {
  it("is not adopted from someone else who posted the marker; the token's own comment is", async () => {
    const planted = github.addComment(PR, `${MARKER_LINE}\n**Verdict: ✅ PASS** (planted)`, 'mallory')
    const mark = github.requests.length
    const first = await runWithFeedback()
    expect(planted.body).toBe(`${MARKER_LINE}\n**Verdict: ✅ PASS** (planted)`)
    expect(writesSince(mark)).toEqual([`POST ${COMMENTS_PATH}`, 'POST /repos/acme/shop/check-runs'])
    expect(first.stdout).toContain("A comment carrying this step's marker by mallory was ignored")
    expect(warnings(first)).toEqual([])
    const own = github.commentsOn(PR).find((comment) => comment.id !== planted.id)
    expect(own?.user.login).toBe(ACTIONS_BOT)
    checkStep(
      'Trust',
      'comment with the marker posted by another user',
      first,
      { code: 0, secrets: secrets(), timeoutS: STEP_BOUND_S },
      'left alone; a new comment is created; one info line says a foreign marker was ignored'
    )

    const rerunMark = github.requests.length
    const rerun = await runWithFeedback()
    expect(writesSince(rerunMark)).toEqual([`PATCH /repos/acme/shop/issues/comments/${own?.id}`, 'POST /repos/acme/shop/check-runs'])
    expect(github.commentsOn(PR)).toHaveLength(2)
    checkStep(
      'Trust',
      "comment with the marker by the token's own identity",
      rerun,
      { code: 0, secrets: secrets(), timeoutS: STEP_BOUND_S },
      'updated in place (identity from GraphQL viewer)'
    )
  })
})

describe('pull_request_target', () => {
  it('with the base checked out marks no head commit green, and says so in the comment, the summary and a warning', async () => {
    const mark = github.requests.length
    const result = await runWithFeedback(eventEnv({ event: 'pull_request_target', head: OTHER_HEAD, runSha: CHECKED_OUT }))
    expect(writesSince(mark)).toEqual([`POST ${COMMENTS_PATH}`])
    expect(github.checkRuns).toEqual([])
    const sentence = `these gates ran on ${CHECKED_OUT}, not on the pull request's head ${OTHER_HEAD}`
    expect(warnings(result)).toEqual([expect.stringContaining(sentence)])
    const notice = `> ⚠️ **These gates ran on <code>${CHECKED_OUT}</code>, not on the pull request&#39;s head <code>${OTHER_HEAD}</code>.**`
    expect(github.commentsOn(PR)[0]?.body.split('\n')[1]).toBe(notice)
    expect(result.summary).toContain(notice)
    checkStep(
      'Trust',
      'pull_request_target with the base checked out',
      result,
      { code: 0, gates: { runtime: 'pass' }, secrets: secrets(), timeoutS: STEP_BOUND_S },
      "no check run on the pull request's head; the comment, the summary and one warning name both commits"
    )
  })

  it('with the head checked out marks the head', async () => {
    const result = await runWithFeedback(eventEnv({ event: 'pull_request_target', head: CHECKED_OUT, runSha: OTHER_HEAD }))
    expect(github.checkRuns.map((run) => [run['head_sha'], run['conclusion']])).toEqual([[CHECKED_OUT, 'success']])
    expect(warnings(result)).toEqual([])
    checkStep(
      'Trust',
      'pull_request_target with the head checked out',
      result,
      { code: 0, gates: { runtime: 'pass' }, secrets: secrets(), timeoutS: STEP_BOUND_S },
      "check run on the head: the code that ran is the head's (the README warns what this event gives that code)"
    )
  })
})
