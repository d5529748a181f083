// Pull-request feedback and annotations through the bundled action, as the runner runs it:
// real PostgreSQL, real workers, and a local HTTP server playing the GitHub API (GITHUB_API_URL).
// The renderers and the client are tested in depth in github-feedback.test.ts and comment.test.ts;
// this proves the step wires them: inputs, event, token masking, and never a failed step.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO, type ActionResult } from '../support/action.js'
import { exampleDatabase, runOnExample, type ExampleDatabase } from '../support/example.js'
import { FakeGitHub } from '../support/fake-github.js'
import { TestPostgres } from '../support/postgres.js'

const TOKEN = 'ghs_e2eTokenThatMustNeverBePrinted0001'
const PR = 17
// The commit the worker's code is checked out at: a check run goes only on the commit that ran.
const HEAD_SHA = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim()
const WORKFLOW = '.github/workflows/celery.yml'

let pg: TestPostgres
let github: FakeGitHub
beforeAll(async () => {
  pg = await TestPostgres.start()
  github = await FakeGitHub.start()
})
afterAll(async () => {
  await github?.stop()
  await pg?.destroy()
})

function eventEnv(headRepo = 'acme/shop'): Record<string, string> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'cfg-event-')), 'event.json')
  writeFileSync(
    file,
    JSON.stringify({
      number: PR,
      pull_request: { number: PR, head: { sha: HEAD_SHA, repo: { full_name: headRepo } }, base: { repo: { full_name: 'acme/shop' } } },
      repository: { full_name: 'acme/shop' }
    })
  )
  return {
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: file,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_API_URL: github.url,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '99',
    GITHUB_SHA: 'b'.repeat(40),
    GITHUB_WORKFLOW_REF: `acme/shop/${WORKFLOW}@refs/pull/${PR}/merge`
  }
}

const withFeedback = (extra: Record<string, string> = {}): Record<string, string> => ({ 'github-token': TOKEN, 'check-run': 'true', ...extra })

function expectNoToken(result: ActionResult): void {
  // `::add-mask::` is how the token reaches the runner's masking, before anything else prints.
  const [first, ...rest] = result.stdout.split('\n').filter((l) => l.includes(TOKEN))
  expect(first).toBe(`::add-mask::${TOKEN}`)
  expect(rest).toEqual([])
  for (const text of [result.stderr, result.summary, result.reportText, JSON.stringify(result.outputs)]) expect(text).not.toContain(TOKEN)
}

/** `::error file=…,line=…,title=…::message` lines, as the runner reads them. */
function errorAnnotations(stdout: string): Array<{ props: string; message: string }> {
  return [...stdout.matchAll(/^::error (.*?)::(.*)$/gm)].map((m) => ({ props: m[1] ?? '', message: m[2] ?? '' }))
}

describe('the action on a pull request', () => {
  let db: ExampleDatabase
  beforeAll(async () => {
    db = await exampleDatabase(pg)
  })

  it('keeps one comment across reruns, creates a check run per verdict, annotates each failed gate', async () => {
    const before = github.requests.length
    const wrongUrl = db.url.replace(encodeURIComponent(db.password), 'wrong')
    // A run whose worker the database refuses: runtime fails, the gates after it are skipped.
    const failed = await runOnExample('5.7', db, withFeedback(), { env: { ...eventEnv(), DATABASE_URL: wrongUrl } })
    expect(failed.code).toBe(1)
    const annotations = errorAnnotations(failed.stdout)
    const gateAnnotations = annotations.filter((a) => a.props.includes('Celery foundation gate'))
    expect(gateAnnotations).toHaveLength(failed.report?.gates.filter((g) => g.status === 'fail').length ?? -1)
    expect(gateAnnotations[0]?.props).toBe(`title=Celery foundation gate \`runtime\` failed,file=${WORKFLOW},line=1`)
    expect(gateAnnotations[0]?.message).toMatch(/password authentication failed/)

    const firstRun = github.requests.slice(before)
    expect(
      github
        .writes()
        .filter((r) => firstRun.includes(r))
        .map((r) => `${r.method} ${r.path}`)
    ).toEqual([`POST /repos/acme/shop/issues/${PR}/comments`, 'POST /repos/acme/shop/check-runs'])
    expect(firstRun.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true)
    const [comment] = github.commentsOn(PR)
    expect(comment?.body).toMatch(/^<!-- celery-foundation-gates:app\.celery_app@examples\/tenant-app -->/)
    expect(comment?.body).toContain('FAIL')
    const failedCheck = github.checkRuns.at(-1)
    expect([failedCheck?.name, failedCheck?.conclusion, failedCheck?.head_sha]).toEqual(['Celery foundation gates', 'failure', HEAD_SHA])

    // The rerun, now with the right password: the same comment is updated, a new check run passes.
    const mark = github.requests.length
    const passed = await runOnExample('5.7', db, withFeedback(), { env: { ...eventEnv(), DATABASE_URL: db.url } })
    expect(passed.code).toBe(0)
    expect(errorAnnotations(passed.stdout)).toEqual([])
    expect(
      github
        .writes()
        .filter((r) => github.requests.indexOf(r) >= mark)
        .map((r) => `${r.method} ${r.path}`)
    ).toEqual([`PATCH /repos/acme/shop/issues/comments/${comment?.id}`, 'POST /repos/acme/shop/check-runs'])
    expect(github.commentsOn(PR)).toHaveLength(1)
    expect(github.commentsOn(PR)[0]?.body).toContain('PASS')
    expect(github.checkRuns.at(-1)?.conclusion).toBe('success')
    for (const r of [failed, passed]) expectNoToken(r)
  })

  it('on a fork pull request writes nothing, warns once and does not fail the step', async () => {
    const mark = github.requests.length
    const result = await runOnExample('5.7', db, withFeedback(), { env: { ...eventEnv('someone/shop-fork'), DATABASE_URL: db.url } })
    expect(result.code).toBe(0)
    expect(github.requests.slice(mark)).toEqual([])
    const warnings = result.stdout.split('\n').filter((l) => l.startsWith('::warning'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/fork/)
    expectNoToken(result)
  })

  it('without a token sends nothing at all', async () => {
    const mark = github.requests.length
    const result = await runOnExample('5.7', db, {}, { env: { ...eventEnv(), DATABASE_URL: db.url } })
    expect(result.code).toBe(0)
    expect(github.requests.slice(mark)).toEqual([])
  })
})
