// Pull-request feedback against a local server playing the GitHub REST API (test/support/
// fake-github.ts), through the real @actions/github client: what the server receives is what
// GitHub would. No database, no worker: the reports are the fixtures of real runs.
// This file: the one comment, and the check run.
import { describe, expect, it } from 'vitest'
import { ACTIONS_BOT } from '../support/fake-github.js'
import { loadReportFixture } from '../unit/report-fixtures.js'
import {
  TOKEN,
  MARKER,
  PR_NUMBER,
  HEAD_SHA,
  MERGE_SHA,
  WORKFLOW,
  COMMENTS_PATH,
  github,
  checkoutAt,
  actionsEnv,
  publish,
  describeRequests,
  CHECK_RUN_NAME
} from '../support/github-feedback.js'

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
