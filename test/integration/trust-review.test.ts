// Trust — cases found by an adversarial review of the trust work, each through the bundle as the
// runner runs it (real PostgreSQL, a real Celery worker): a DSN logged in a JSON record with
// escaped slashes or percent-encoded leaks no password; a JUnit report with more failing cases
// than the report keeps is counted whole, kept bounded, and says what it left out; a comment of
// another workflow (same bot account) that quotes the marker is not taken over.
import { randomBytes } from 'node:crypto'
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exampleDatabase, runOnExample } from '../support/example.js'
import { ACTIONS_BOT, FakeGitHub } from '../support/fake-github.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'
import { workspaceTempDir } from '../support/workspace.js'

const GROUP = 'Trust'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

describe('Trust (review): credentials in encodings the patterns did not read', () => {
  it('a DSN in a JSON record with escaped slashes, and percent-encoded in a URL: no password anywhere', async () => {
    const db = await exampleDatabase(pg)
    const hint = randomBytes(6).toString('hex')
    // Built in code from the hint, as the app does: no registry can know it.
    const archivePassword = `ar-${[...hint].reverse().join('')}`
    const result = await runOnExample('5.7', db, { app: 'app.variants.json_logs' }, { env: { APP_ARCHIVE_HINT: hint } })
    // The lines are kept, with the password cut, in both encodings.
    expect(result.workerLog).toContain('postgresql:\\/\\/archive:***@archive.internal')
    expect(result.workerLog).toContain('postgresql%3A%2F%2Farchive%3A***%40archive.internal')
    checkStep(
      GROUP,
      'app logs a DSN as JSON with escaped slashes (`postgresql:\\/\\/u:p@h`) and percent-encoded',
      result,
      { code: 0, gates: { import: 'pass', runtime: 'pass' }, timeoutS: 30, secrets: [archivePassword, db.password, encodeURIComponent(db.password)] },
      'the app prints `{"dsn": "postgresql:\\/\\/archive:<password built in code>@…"}` (ujson-style) and `?next=postgresql%3A%2F%2Farchive%3A<password>%40…`: the gates pass; the worker log keeps both lines with `***` for the password; no password in stdout, stderr, summary, outputs, report, worker log'
    )
  })
})

describe('Trust (review): a JUnit report with more failing cases than the report keeps', () => {
  it('150,000 failing cases: all counted, 100,000 kept, the rest said to be only counted', async () => {
    const dir = workspaceTempDir('review-')
    const file = path.join(dir, 'junit.xml')
    const cases = 150_000
    const out = createWriteStream(file)
    out.write('<?xml version="1.0"?>\n<testsuites><testsuite name="s">\n')
    for (let i = 0; i < cases; i += 1000) {
      let chunk = ''
      for (let j = i; j < i + 1000; j++) chunk += `<testcase classname="c" name="t${j}"><failure message="m"/></testcase>\n`
      if (!out.write(chunk)) await once(out, 'drain')
    }
    out.end('</testsuite></testsuites>\n')
    await once(out, 'finish')
    const db = await exampleDatabase(pg)
    const result = await runOnExample('5.7', db, { junit: file })
    const tests = result.report?.tests
    expect(tests?.failed).toBe(cases)
    expect(tests?.taxonomy.length).toBe(100_000)
    expect(tests?.taxonomyOmitted).toBe(50_000)
    expect(result.outputs['tests-failed']).toBe(String(cases))
    expect(result.summary).toContain('the rest are only counted')
    checkStep(
      GROUP,
      'junit: 150,000 failing cases (more than the report keeps)',
      result,
      { code: 0, gates: { ci: 'warn' }, timeoutS: 30, marginS: 60 },
      'a report of 150,000 failing cases: `tests-failed` is 150,000, the JSON report keeps the first 100,000 classified cases and says 50,000 were only counted (`taxonomyOmitted`), the summary says so; memory stays bounded (4,000,000 cases, 295 MB, exhausted the heap with no summary before)'
    )
  })
})

describe("Trust (review): the same bot's comment that only quotes the marker", () => {
  it('another workflow of the same token identity quoting the marker (from a PR description) is left alone', async () => {
    const github = await FakeGitHub.start()
    try {
      const pr = 31
      const marker = '<!-- celery-foundation-gates:app.celery_app@examples/tenant-app -->'
      // A "PR description check" workflow posts as github-actions[bot] and quotes the description,
      // into which the pull request's author pasted our marker.
      const quoted = `Thanks! Your description:\n\n> Fixes the worker\n> ${marker}\n\nLooks complete.`
      const other = github.addComment(pr, quoted, ACTIONS_BOT)
      const event = path.join(mkdtempSync(path.join(tmpdir(), 'cfg-event-')), 'event.json')
      writeFileSync(
        event,
        JSON.stringify({
          number: pr,
          pull_request: { number: pr, head: { sha: 'c'.repeat(40), repo: { full_name: 'acme/shop' } }, base: { repo: { full_name: 'acme/shop' } } },
          repository: { full_name: 'acme/shop' }
        })
      )
      const db = await exampleDatabase(pg)
      const token = 'ghs_reviewTokenThatMustNeverBePrinted0003'
      const result = await runOnExample(
        '5.7',
        db,
        { 'github-token': token, 'check-run': 'false' },
        {
          env: {
            GITHUB_EVENT_NAME: 'pull_request',
            GITHUB_EVENT_PATH: event,
            GITHUB_REPOSITORY: 'acme/shop',
            GITHUB_API_URL: github.url,
            GITHUB_SERVER_URL: 'https://github.com',
            GITHUB_RUN_ID: '78'
          }
        }
      )
      expect(other.body).toBe(quoted)
      const ours = github.commentsOn(pr).filter((c) => c.id !== other.id)
      expect(ours).toHaveLength(1)
      expect(ours[0]?.body.startsWith(marker)).toBe(true)
      checkStep(
        GROUP,
        "comment by the token's own identity that only quotes the marker (another workflow)",
        result,
        { code: 0, gates: { runtime: 'pass' }, secrets: [token, db.password], timeoutS: 30, marginS: 45 },
        "another workflow's comment, also by github-actions[bot], quotes the pull request's description holding the marker: it is left as it was; the action posts its own comment (the marker must open the comment, as the action writes it)"
      )
    } finally {
      await github.stop()
    }
  })
})
