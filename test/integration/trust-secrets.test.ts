// Trust — secrets: an app that quotes its own DSN in an import error (pydantic's
// `input_value='…'`), or prints its DSNs and a `password=…` connection string, leaks no password
// into anything the action or the CLI writes. The DSNs are only in the environment (not the
// `database-url` input): the action registers them before anything runs, and cuts by pattern the
// password it cannot know. Real PostgreSQL, real Celery workers, the bundle and the CLI as users run them.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIST_POST, leakedSecrets, processesOfRun, runAction, stepFiles, type ActionResult } from '../support/action.js'
import { exampleDatabase, runOnExample, type ExampleDatabase } from '../support/example.js'
import { exampleArgs, runCli } from '../support/cli.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep, record } from '../support/reliability.js'

const GROUP = 'Trust'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

/** A DSN the worker never connects with, only in the app's environment; its password needs encoding. */
function reportingDsn(): { password: string; dsn: string } {
  const password = `rep-${randomBytes(6).toString('hex')}@:/`
  return { password, dsn: `postgresql://reporting:${encodeURIComponent(password)}@reporting.internal:5432/reports` }
}

/** Every form of a password and DSN that must appear nowhere. */
function secretsOf(db: ExampleDatabase, reporting: { password: string; dsn: string }, ...more: string[]): string[] {
  return [db.password, encodeURIComponent(db.password), db.url, reporting.password, encodeURIComponent(reporting.password), reporting.dsn, ...more]
}

/** The `::add-mask::` line @actions/core writes for a secret (it escapes %, CR and LF). */
function maskLine(secret: string): string {
  return `::add-mask::${secret.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}`
}

/**
 * Each secret is masked before the step prints anything else: its `::add-mask::` line is among
 * the leading run of `::add-mask::` lines of stdout, so the runner hides it from the first line on.
 */
function maskedFirst(result: ActionResult, secrets: string[]): string[] {
  const lines = result.stdout.split('\n')
  const firstOther = lines.findIndex((l) => !l.startsWith('::add-mask::'))
  const leading = new Set(lines.slice(0, firstOther < 0 ? lines.length : firstOther))
  return secrets.filter((s) => !leading.has(maskLine(s))).map((s) => `${JSON.stringify(s)} is not masked before the first other line`)
}

describe('Trust: secrets the app itself quotes or prints', () => {
  it("an import error quoting the app's DSN (pydantic style): the import gate fails, no password anywhere", async () => {
    const db = await exampleDatabase(pg)
    const reporting = reportingDsn()
    const result = await runOnExample('5.7', db, { app: 'app.variants.settings_error' }, { env: { APP_REPORTING_DATABASE_URL: reporting.dsn } })
    const secrets = secretsOf(db, reporting)
    expect(maskedFirst(result, [db.url, db.password, reporting.dsn, reporting.password])).toEqual([])
    checkStep(
      GROUP,
      'import error quoting a DSN from the environment (pydantic `input_value=`)',
      result,
      {
        code: 1,
        gates: { import: 'fail' },
        // The quoted DSN is shown hidden, not dropped: the reader sees which value was rejected.
        evidence: /input_value='\*\*\*'/,
        timeoutS: 30,
        secrets
      },
      "the app's settings reject `APP_REPORTING_DATABASE_URL` (only in the environment, not the `database-url` input) with `input_value='postgresql://reporting:<password>@…'`: import fails showing `input_value='***'`; the DSNs are masked (`::add-mask::`) before any other line; no password or DSN in stdout, stderr, summary, outputs, report, worker log"
    )
  })

  it('an app printing its DSNs while importing and a `password=…` line once ready: the gates pass, no password anywhere', async () => {
    const db = await exampleDatabase(pg)
    const reporting = reportingDsn()
    const hint = randomBytes(6).toString('hex')
    // The legacy password is built in code from the hint: no registry can know it, only the pattern.
    const legacyPassword = `lg-${[...hint].reverse().join('')}`
    const result = await runOnExample(
      '5.7',
      db,
      { app: 'app.variants.prints_dsn' },
      { env: { APP_REPORTING_DATABASE_URL: reporting.dsn, APP_LEGACY_HINT: hint } }
    )
    const secrets = secretsOf(db, reporting, legacyPassword)
    expect(maskedFirst(result, [db.url, db.password, reporting.dsn, reporting.password])).toEqual([])
    // The lines were kept, with their passwords cut: the worker log shows what the app printed.
    expect(result.workerLog).toMatch(/^connecting to \*\*\*$/m)
    expect(result.workerLog).toMatch(/^reporting database: \*\*\*$/m)
    expect(result.workerLog).toMatch(/legacy database: host=legacy\.internal user=legacy password=\*\*\* dbname=legacy/)
    checkStep(
      GROUP,
      'app prints its DSNs while importing, logs `password=…` when ready',
      result,
      { code: 0, gates: { import: 'pass', runtime: 'pass', 'db-access': 'pass' }, timeoutS: 30, secrets },
      'the app prints `DATABASE_URL` and `APP_REPORTING_DATABASE_URL` at import and logs `password=<built in code>` at `worker_ready`: the gates pass; the worker log keeps the lines as `connecting to ***`, `password=***`; no password or DSN in stdout, stderr, summary, outputs, report, worker log'
    )
  })

  it("keep-worker: the post step shows the kept worker's log without its passwords", async () => {
    const db = await exampleDatabase(pg)
    const reporting = reportingDsn()
    const hint = randomBytes(6).toString('hex')
    const legacyPassword = `lg-${[...hint].reverse().join('')}`
    const env = { APP_REPORTING_DATABASE_URL: reporting.dsn, APP_LEGACY_HINT: hint }
    const files = stepFiles()
    const main = await runOnExample('5.7', db, { app: 'app.variants.prints_dsn', 'keep-worker': 'true' }, { files, env })
    const runId = main.report?.runId ?? ''
    try {
      expect(main.code, main.stdout + main.stderr).toBe(0)
      // The post step gets the step's environment and inputs again, as on a runner.
      const post = await runAction({ app: 'app.variants.prints_dsn' }, { script: DIST_POST, files, passState: true, env: { DATABASE_URL: db.url, ...env } })
      const secrets = secretsOf(db, reporting, legacyPassword)
      const leaks = [...leakedSecrets(main, secrets), ...leakedSecrets(post, secrets)]
      const shown =
        post.summary.includes('Celery worker kept for the job') &&
        /connecting to \*\*\*/.test(post.summary) &&
        /password=\*\*\* dbname=legacy/.test(post.summary)
      const left = processesOfRun(runId).length
      const passed = post.code === 0 && shown && !leaks.length && left === 0
      record({
        group: GROUP,
        case: "keep-worker: the post step's display of the kept worker's log",
        expectation:
          'the kept worker printed its DSNs and a `password=…` line into its own output; the post step (its own registry, from the environment, plus patterns) shows that log in its summary as `connecting to ***`, `password=***`; no password anywhere, nothing left running',
        result: `main exit ${main.code}; post exit ${post.code}; log ${shown ? 'shown with the passwords cut' : 'NOT shown as expected'}; ${leaks.length ? `LEAKS: ${leaks.join('; ')}` : 'no secret in any output'}; ${left} processes left`,
        passed
      })
      expect(leaks).toEqual([])
      expect(shown, post.summary.slice(-3000)).toBe(true)
      expect(post.code).toBe(0)
      expect(left).toBe(0)
    } finally {
      for (const pid of runId ? processesOfRun(runId) : []) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
    }
  })
})

describe('Trust: the CLI, which has no runner mask', () => {
  it('prints no password of an app whose import error quotes its DSN: stdout, stderr, --json, --summary-file, report', async () => {
    const db = await exampleDatabase(pg)
    const reporting = reportingDsn()
    const summaryFile = path.join(mkdtempSync(path.join(tmpdir(), 'cfg-cli-')), 'summary.md')
    const started = performance.now()
    const run = await runCli([...exampleArgs(db, 'app.variants.settings_error'), '--json', '--summary-file', summaryFile, '--keep-files'], {
      DATABASE_URL: db.url,
      APP_REPORTING_DATABASE_URL: reporting.dsn,
      CI: 'true'
    })
    const seconds = (performance.now() - started) / 1000
    const reportPath = /^Report: (.*)$/m.exec(run.stderr)?.[1] ?? ''
    const places: Record<string, string> = {
      stdout: run.stdout,
      stderr: run.stderr,
      'summary file': existsSync(summaryFile) ? readFileSync(summaryFile, 'utf8') : '',
      'report file': reportPath && existsSync(reportPath) ? readFileSync(reportPath, 'utf8') : ''
    }
    const leaks = secretsOf(db, reporting).flatMap((s) =>
      Object.entries(places)
        .filter(([, text]) => text.includes(s))
        .map(([where]) => `${where} contains ${JSON.stringify(s)}`)
    )
    const report = JSON.parse(run.stdout) as { gates: Array<{ id: string; status: string; evidence: string }> }
    const importGate = report.gates.find((g) => g.id === 'import')
    const passed =
      run.code === 1 && importGate?.status === 'fail' && /input_value='\*\*\*'/.test(importGate.evidence) && !!places['summary file'] && !leaks.length
    record({
      group: GROUP,
      case: 'CLI: import error quoting a DSN from the environment',
      expectation:
        "`--json --summary-file` on the pydantic-style import error: exit 1, import fails showing `input_value='***'`; no password or DSN on stdout (the JSON), stderr (progress, matrix, errors), the summary file or the report file",
      result: `exit ${run.code} in ${seconds.toFixed(1)} s; import ${importGate?.status ?? 'missing'}: ${importGate?.evidence.split('\n')[0]?.slice(0, 140) ?? ''}; ${leaks.length ? `LEAKS: ${leaks.join('; ')}` : 'no secret in any output'}`,
      passed
    })
    expect(leaks).toEqual([])
    expect(run.code).toBe(1)
    expect(importGate?.status).toBe('fail')
    expect(importGate?.evidence).toMatch(/input_value='\*\*\*'/)
    expect(places['summary file']).toContain('Celery foundation gates')
  })
})
