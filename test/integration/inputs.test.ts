// Bad input gets a one-line error that names the input and what was expected, the gate the input
// belongs to fails, the others are skipped, and the summary, outputs and report are still written.
// Inputs only the worker or the database can judge (worker arguments, tenant tables, test
// reports) are judged there, with the same care. Driven through the bundle as the runner runs it;
// every case is checked for the common invariants and recorded for RELIABILITY.md.
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXAMPLE_APP, pythonFor, runAction, type ActionResult } from '../support/action.js'
import { exampleDatabase, type ExampleDatabase } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'
import { workspaceTempDir } from '../support/workspace.js'

const GROUP = 'Bad inputs'
const JUNIT_FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'junit')

/** The peak resident memory of a process so far (VmHWM), in KiB; 0 when it is gone. */
function peakRssKb(pid: number | undefined): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
  } catch {
    return 0
  }
}

/** A pytest-style report: a few failing tests, and one test whose system-out is `bytes` long. */
async function writeHugeReport(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file)
  const write = (chunk: string): Promise<void> => new Promise((resolve) => (out.write(chunk) ? resolve() : out.once('drain', () => resolve())))
  await write('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="3">')
  await write('<testcase classname="tests.test_a" name="test_ok" time="0.1"/>')
  await write(
    '<testcase classname="tests.test_a" name="test_eager" time="0.1"><failure message="AssertionError: assert None is not None">eager_app = &lt;Celery app&gt;</failure></testcase>'
  )
  await write('<testcase classname="tests.test_a" name="test_chatty" time="9.9"><system-out>')
  const line = `${'log line '.repeat(100)}\n`
  for (let written = 0; written < bytes; written += line.length) await write(line)
  await write('</system-out></testcase></testsuite></testsuites>\n')
  await new Promise<void>((resolve) => out.end(() => resolve()))
}

const valid = (): Record<string, string> => ({
  app: 'app.celery_app',
  'working-directory': EXAMPLE_APP,
  python: pythonFor('5.7'),
  timeout: '10'
})

/** An input error: one ::error:: line, the input's gate fails, the others are skipped. */
function expectInputError(name: string, result: ActionResult, failingGate: string, message: RegExp, secrets: string[] = []): void {
  const errors = result.stdout.split('\n').filter((l) => l.startsWith('::error::'))
  expect(errors).toHaveLength(1)
  expect(errors[0]).toMatch(message)
  const others = (result.report?.gates ?? []).filter((g) => g.id !== failingGate)
  expect(others.map((g) => g.status)).toEqual(others.map(() => 'skip'))
  expect(result.summary).toMatch(/input error/i)
  expect(result.report?.interrupted?.kind).toBe('input-error')
  checkStep(
    GROUP,
    name,
    result,
    { code: 1, gates: { [failingGate]: 'fail' }, evidence: message, timeoutS: 0, marginS: 10, secrets },
    `one-line error naming the input; ${failingGate} fails, the rest skipped; summary and report written`
  )
}

describe('inputs the action judges itself', () => {
  it('missing app', async () => {
    const { app: _app, ...rest } = valid()
    expectInputError('app missing', await runAction(rest), 'import', /Input "app": is required/)
  })

  it('an app path with shell metacharacters is data, never run', async () => {
    rmSync('/tmp/pwned', { force: true })
    const result = await runAction({ ...valid(), app: 'app.celery_app; touch /tmp/pwned' })
    expectInputError(
      'app `app.celery_app; touch /tmp/pwned`',
      result,
      'import',
      /Input "app": expected a Python module path .*got "app\.celery_app; touch \/tmp\/pwned"/
    )
    expect(existsSync('/tmp/pwned')).toBe(false)
  })

  it.each(['0', '-5', 'abc', '1e9'])('timeout %s', async (timeout) => {
    expectInputError(
      `timeout \`${timeout}\``,
      await runAction({ ...valid(), timeout }),
      'runtime',
      /Input "timeout": expected a number of seconds from 1 to 3600, got "/
    )
  })

  it('unknown fail-on', async () => {
    expectInputError(
      'fail-on `sometimes`',
      await runAction({ ...valid(), 'fail-on': 'sometimes' }),
      'ci',
      /Input "fail-on": expected one of foundation, any, never; got "sometimes"/
    )
  })

  it('a working-directory that does not exist', async () => {
    expectInputError(
      'working-directory that does not exist',
      await runAction({ ...valid(), 'working-directory': 'no/such/dir' }),
      'import',
      /Input "working-directory": expected an existing directory, got "no\/such\/dir"/
    )
  })

  it.each([
    ['a MySQL URL', 'mysql://root:hunter22@db:3306/app', /got a mysql:\/\/ URL/],
    ['a Redis URL', 'redis://:hunter22@localhost:6379/0', /got a redis:\/\/ URL/],
    ['not a DSN', 'hunter22 is my password', /got something that is not a URL/]
  ])('database-url that is %s', async (what, url, message) => {
    const result = await runAction({ ...valid(), 'database-url': url })
    expectInputError(`database-url that is ${what}`, result, 'db-access', new RegExp(`Input "database-url": expected a PostgreSQL DSN .*${message.source}`), [
      'hunter22'
    ])
  })

  it('worker-args with shell syntax', async () => {
    expectInputError(
      'worker-args with `;`',
      await runAction({ ...valid(), 'worker-args': '--pool=solo; rm -rf /' }),
      'runtime',
      /Input "worker-args": shell syntax is not supported/
    )
  })

  it('worker-args that detach the worker', async () => {
    expectInputError(
      'worker-args `-ED` (detach)',
      await runAction({ ...valid(), 'worker-args': '-ED' }),
      'runtime',
      /Input "worker-args": --detach \(-D\) is not supported/
    )
  })

  it('a taxonomy-rules file that is not valid', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-rules-'))
    const file = path.join(dir, 'rules.yml')
    writeFileSync(file, 'rules:\n  - id: x\n    category: harness:nope\n    remediation: y\n')
    expectInputError(
      'taxonomy-rules with an unknown category',
      await runAction({ ...valid(), 'taxonomy-rules': file }),
      'ci',
      /Input "taxonomy-rules": expected a YAML or JSON rules file: .*rules\[0\]\.category/
    )
  })
})

describe('a python that is not a usable interpreter', () => {
  it('a path that does not exist fails the import gate, naming the input', async () => {
    const result = await runAction({ ...valid(), python: '/no/such/python3' })
    checkStep(
      GROUP,
      'python that does not exist',
      result,
      { code: 1, gates: { import: 'fail' }, evidence: /python "\/no\/such\/python3" was not found \(expected a Python 3 interpreter/, timeoutS: 10 },
      'import fails naming the python input'
    )
  })

  it('a program that is not Python fails the import gate', async () => {
    const result = await runAction({ ...valid(), python: '/bin/true' })
    checkStep(
      GROUP,
      'python that is not an interpreter (/bin/true)',
      result,
      { code: 1, gates: { import: 'fail' }, evidence: /\/bin\/true did not run the probe .*is it a Python 3 interpreter/, timeoutS: 10 },
      'import fails naming the python input'
    )
  })
})

describe('inputs only the worker or the database can judge', () => {
  let pg: TestPostgres
  let db: ExampleDatabase
  beforeAll(async () => {
    pg = await TestPostgres.start()
    db = await exampleDatabase(pg, { variants: ['weird-tenant-table'] })
  })
  afterAll(async () => {
    await pg?.destroy()
  })

  const run = (inputs: Record<string, string>): Promise<ActionResult> =>
    runAction(
      { ...valid(), python: pythonFor('5.2'), 'expected-role': db.appRole, 'worker-args': '--pool=solo', timeout: '30', ...inputs },
      { env: { DATABASE_URL: db.url } }
    )
  const secrets = (): string[] => [db.password, encodeURIComponent(db.password), db.url]

  it('worker-args the worker rejects', async () => {
    const result = await run({ 'worker-args': '--pool=nonsense' })
    checkStep(
      GROUP,
      'worker-args the worker rejects (`--pool=nonsense`)',
      result,
      {
        code: 1,
        gates: { runtime: 'fail' },
        evidence: /^the worker rejected its arguments: check the worker-args input\nError: Invalid value for '-P' \/ '--pool'/,
        timeoutS: 30,
        secrets: secrets()
      },
      'runtime fails at once, naming worker-args and quoting Celery'
    )
  })

  it('tenant-tables naming a table that does not exist', async () => {
    const result = await run({ 'tenant-tables': 'invoices, no_such_table' })
    checkStep(
      GROUP,
      'tenant-tables naming a missing table',
      result,
      { code: 1, gates: { 'rls-role': 'fail' }, evidence: /tenant table no_such_table does not exist/, timeoutS: 30, secrets: secrets() },
      'rls-role fails naming the missing table'
    )
  })

  it('tenant-tables with a name that needs quoting', async () => {
    const result = await run({ 'tenant-tables': 'public."Weird-Table"' })
    checkStep(
      GROUP,
      'tenant-tables `public."Weird-Table"`',
      result,
      { code: 0, gates: { 'rls-role': 'pass' }, evidence: /RLS enabled, forced and active for .*"Weird-Table"/, timeoutS: 30, secrets: secrets() },
      'the quoted table is found and checked'
    )
  })

  describe('junit', () => {
    // Inside the workspace: the action reads reports only from there.
    const dir = workspaceTempDir('cfg-junit-input-')

    it('a glob that matches nothing', async () => {
      const result = await run({ junit: path.join(dir, 'nothing-*.xml') })
      expect(result.report?.tests?.unmatched).toEqual([path.join(dir, 'nothing-*.xml')])
      checkStep(
        GROUP,
        'junit glob matching nothing',
        result,
        { code: 0, gates: { ci: 'pass' }, evidence: /1 test report could not be read/, timeoutS: 30, secrets: secrets() },
        'a finding in the summary; the step does not fail under fail-on: foundation'
      )
    })

    it('a binary file', async () => {
      const file = path.join(dir, 'binary.xml')
      writeFileSync(file, randomBytes(64 * 1024))
      const result = await run({ junit: file, 'fail-on': 'any' })
      expect(result.report?.tests?.files[0]?.status).toMatch(/malformed|not-junit/)
      checkStep(
        GROUP,
        'junit file that is binary (fail-on: any)',
        result,
        { code: 1, gates: { ci: 'pass' }, evidence: /could not be read/, timeoutS: 30, secrets: secrets() },
        'a finding; with fail-on: any the unreadable report fails the step'
      )
    })

    it('entity expansion (billion laughs) is never performed', async () => {
      const result = await run({ junit: path.join(JUNIT_FIXTURES, 'billion-laughs.xml') })
      expect(result.report?.tests?.files[0]).toMatchObject({ status: 'malformed' })
      expect(result.report?.tests?.files[0]?.detail).toMatch(/undefined entity/)
      checkStep(
        GROUP,
        'junit with entity expansion (billion laughs)',
        result,
        { code: 0, gates: { ci: 'pass' }, timeoutS: 30, secrets: secrets() },
        'malformed at the first entity reference; nothing expanded; memory flat'
      )
    })

    it('test names with HTML, markdown pipes and control characters', async () => {
      const result = await run({ junit: path.join(JUNIT_FIXTURES, 'hostile.xml') })
      expect(result.report?.tests?.failed).toBeGreaterThan(0)
      expect(result.summary).not.toMatch(/<script|<img|\u001b/i)
      checkStep(
        GROUP,
        'junit test names with HTML, pipes and control characters',
        result,
        { code: 0, gates: { ci: 'warn' }, timeoutS: 30, secrets: secrets() },
        'classified, and shown escaped: no raw HTML or control character reaches the summary'
      )
    })

    it('a 200 MB report streams in bounded memory', async () => {
      // A real suite, then one test whose captured output is 200 MB (a runaway log in a test).
      const file = path.join(dir, 'huge.xml')
      await writeHugeReport(file, 200 * 1024 * 1024)
      let peakKb = 0
      const result = await runAction(
        { ...valid(), python: pythonFor('5.2'), 'expected-role': db.appRole, 'worker-args': '--pool=solo', timeout: '30', junit: file },
        {
          env: { DATABASE_URL: db.url },
          onSpawn: (child) => {
            const timer = setInterval(() => (peakKb = Math.max(peakKb, peakRssKb(child.pid))), 100)
            child.on('exit', () => clearInterval(timer))
          }
        }
      )
      const read = result.report?.tests?.files[0]
      expect(read?.status).toBe('ok')
      expect(read?.bytes).toBeGreaterThan(200 * 1024 * 1024)
      expect(peakKb / 1024).toBeLessThan(300)
      checkStep(
        GROUP,
        'junit report of 200 MB (one test with 200 MB of captured output)',
        result,
        { code: 0, gates: { ci: 'warn' }, timeoutS: 30, marginS: 30, secrets: secrets() },
        `streamed with the output cut to its bound; peak RSS of the action ${Math.round(peakKb / 1024)} MB`
      )
      rmSync(file, { force: true })
    })
  })
})
