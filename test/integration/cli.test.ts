// The CLI on the example app, as a user runs it from a clone: `node dist/cli.js` (what
// `npx celery-foundation-gates` resolves to), a real PostgreSQL and real Celery workers. The same
// gates as the action, the report on stdout with --json (valid against report.schema.json), live
// progress on stderr, the exit code following --fail-on, no secret printed, no process left.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GATE_IDS } from '../../src/constants.js'
import type { RunReport } from '../../src/report/model.js'
import { validateReport } from '../../src/report/schema.js'
import { processesOfRun, pythonFor } from '../support/action.js'
import { exampleArgs, runCli, runCommand } from '../support/cli.js'
import { exampleDatabase, type ExampleDatabase } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import { parentPid, sleep } from '../support/run-watch.js'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

const baseArgs = (db: ExampleDatabase): string[] => exampleArgs(db)

const secretsOf = (db: ExampleDatabase): string[] => [db.password, encodeURIComponent(db.password)]
const noSecrets = (db: ExampleDatabase, ...texts: string[]): void => {
  for (const secret of secretsOf(db)) for (const text of texts) expect(text.includes(secret), 'a password was printed').toBe(false)
}
const stripAnsi = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, '')

describe('the CLI on the example app', () => {
  it('runs as the README says: npx celery-foundation-gates --app app.celery_app --working-directory examples/tenant-app', async () => {
    // The README's set-up: the example's roles (app_user), the virtual environment activated.
    const db = await exampleDatabase(pg, { appRole: 'app_user' })
    const venvBin = path.dirname(pythonFor('5.7'))
    const run = await runCommand('npx', ['celery-foundation-gates', '--app', 'app.celery_app', '--working-directory', 'examples/tenant-app'], {
      DATABASE_URL: db.url,
      PATH: `${venvBin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      // A fresh npm cache and no network: npx must resolve the clone's own `bin`, not download.
      npm_config_cache: mkdtempSync(path.join(tmpdir(), 'cfg-npm-cache-')),
      npm_config_offline: 'true'
    })
    expect(run.code, run.stderr).toBe(0)
    const matrix = run.stdout.split('\n').filter((l) => /^[a-z-]+\s+(PASS|FAIL|MIXED|SKIPPED)\s/.test(l))
    expect(matrix.map((l) => l.split(/\s+/).slice(0, 2))).toEqual(GATE_IDS.filter((g) => g !== 'dlq').map((id) => [id, 'PASS']))
    expect(run.stdout).toMatch(/^Verdict: PASS — /m)
    noSecrets(db, run.stdout, run.stderr)
  })

  it('runs every gate, prints the report as JSON that validates against the schema, and progress per gate', async () => {
    const db = await exampleDatabase(pg)
    const summaryFile = path.join(mkdtempSync(path.join(tmpdir(), 'cfg-cli-')), 'summary.md')
    const run = await runCli([...baseArgs(db), '--json', '--summary-file', summaryFile, '--keep-files'], { DATABASE_URL: db.url, CI: 'true' })
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(run.stdout) as RunReport
    expect(validateReport(report)).toEqual({ ok: true })
    expect(report.verdict).toBe('pass')
    // Every gate but dlq (off without --dlq-table), all passing.
    expect(report.gates.map((g) => [g.id, g.status])).toEqual(GATE_IDS.filter((g) => g !== 'dlq').map((id) => [id, 'pass']))
    // CI is set: plain progress lines on stderr, one per gate, in order, then the matrix.
    const progress = stripAnsi(run.stderr)
      .split('\n')
      .filter((l) => /^(PASS|FAIL|MIXED|SKIPPED)\s+\S+: /.test(l))
    expect(progress.map((l) => l.split(/\s+/)[1]?.replace(/:$/, ''))).toEqual(report.gates.map((g) => g.id))
    expect(stripAnsi(run.stderr)).toMatch(/^Gate\s+Status\s+Evidence$/m)
    expect(readFileSync(summaryFile, 'utf8')).toContain('**Verdict: ✅ PASS**')
    expect(run.stderr).toContain(`Summary: ${summaryFile}`)
    // The report file it names is the same report.
    const reportPath = /^Report: (.*)$/m.exec(run.stderr)?.[1] ?? ''
    expect(JSON.parse(readFileSync(reportPath, 'utf8')).runId).toBe(report.runId)
    noSecrets(db, run.stdout, run.stderr, readFileSync(summaryFile, 'utf8'))
    expect(processesOfRun(report.runId)).toEqual([])
  })

  it('prints the coloured matrix on stdout and exits 1 when a foundation gate fails; 0 with --fail-on never', async () => {
    const db = await exampleDatabase(pg)
    const wrong = db.url.replace(encodeURIComponent(db.password), 'not-the-password')
    const run = await runCli(baseArgs(db), { DATABASE_URL: wrong, FORCE_COLOR: '1' })
    expect(run.code, run.stderr).toBe(1)
    const plain = stripAnsi(run.stdout)
    expect(plain).toMatch(/^runtime\s+FAIL\s+.*password authentication failed/m)
    expect(plain).toMatch(/^Verdict: FAIL — /m)
    // The statuses are coloured: red and bold for FAIL.
    expect(run.stdout).toMatch(/\x1b\[1m\x1b\[31mFAIL/)
    expect(run.stderr).toMatch(/^Celery foundation gates failed: .*runtime/m)
    noSecrets(db, run.stdout, run.stderr)

    const never = await runCli([...baseArgs(db), '--fail-on', 'never', '--no-color'], { DATABASE_URL: wrong })
    expect(never.code, never.stderr).toBe(0)
    expect(never.stdout).toMatch(/^runtime\s+FAIL/m)
    expect(never.stdout).not.toContain('\x1b[')
  })

  it('stops the worker and leaves no process when interrupted with Ctrl-C (SIGINT), exit 130', async () => {
    const db = await exampleDatabase(pg)
    let pid = 0
    const started = runCli([...baseArgs(db), '--json'], { DATABASE_URL: db.url, CI: 'true' }, { onSpawn: (p) => (pid = p) })
    // Interrupt once the worker is up: the runtime gate's line has not been printed yet.
    const deadline = Date.now() + 30_000
    let runId: string | undefined
    while (!runId && Date.now() < deadline) {
      await sleep(100)
      runId = findRunIdOf(pid)
    }
    // Interrupted whatever happened, so that a failing test leaves no CLI behind either.
    process.kill(pid, 'SIGINT')
    const run = await started
    expect(runId, 'the worker never started').toBeTruthy()
    expect(run.code).toBe(130)
    const report = JSON.parse(run.stdout) as RunReport
    expect(report.interrupted?.kind).toBe('cancelled')
    expect(validateReport(report)).toEqual({ ok: true })
    expect(processesOfRun(runId as string)).toEqual([])
  })
})

/** The run id of a CLI process, from the marker its worker carries (see RUN_MARKER_ENV). */
function findRunIdOf(cliPid: number): string | undefined {
  for (const dir of readdirSync('/proc')) {
    if (!/^\d+$/.test(dir)) continue
    if (parentPid(Number(dir)) !== cliPid) continue
    try {
      const env = readFileSync(`/proc/${dir}/environ`, 'utf8').split('\0')
      const marker = env.find((e) => e.startsWith('CELERY_FOUNDATION_GATES_RUN='))
      if (marker) return marker.split('=')[1]
    } catch {
      // The process ended meanwhile.
    }
  }
  return undefined
}
