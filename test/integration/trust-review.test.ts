// Trust — cases found by an adversarial review of the trust work, each through the bundle as the
// runner runs it (real PostgreSQL, a real Celery worker): a DSN logged in a JSON record with
// escaped slashes or percent-encoded leaks no password; a JUnit report with more failing cases
// than the report keeps is counted whole, kept bounded, and says what it left out.
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import path from 'node:path'
import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exampleDatabase, runOnExample } from '../support/example.js'
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
