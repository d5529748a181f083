// The `sql` command's boundary with the user's interpreter (src/sql/schema-probe.ts): whatever that
// interpreter writes on fd 3 is validated before a statement of it is printed. Each case runs a
// real process standing in for python (a shell script that ignores bootstrap.py and writes the
// given line on fd 3, as a hostile app's import could); the well-behaved case is the integration
// test (test/integration/sql-command.test.ts).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { probeSchema } from '../../src/sql/schema-probe.js'

const dir = mkdtempSync(path.join(tmpdir(), 'cfg-sql-probe-'))
let n = 0
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** An executable that writes `fd3` (if any) on fd 3, `stderr` on stderr, then runs `then`. */
function fakePython(fd3: string | undefined, then = 'exit 0', stderr = ''): string {
  const file = path.join(dir, `python-${++n}`)
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`
  writeFileSync(file, `#!/bin/sh\n${fd3 === undefined ? '' : `printf '%s\\n' ${q(fd3)} >&3\n`}${stderr ? `printf '%s\\n' ${q(stderr)} >&2\n` : ''}${then}\n`)
  chmodSync(file, 0o755)
  return file
}

const spec = (python: string, timeoutMs = 10_000) => ({ python, cwd: dir, app: 'app.celery_app', timeoutMs })
const good = {
  event: 'schema',
  versions: { celery: '5.7.0', kombu: '5.7.0', sqlalchemy: '2.1.9' },
  transport: { scheme: 'sqla+postgresql', transport_class: 'kombu.transport.sqlalchemy.Transport', error: null },
  backend_class: 'celery.backends.database.DatabaseBackend',
  broker: { statements: ['CREATE SEQUENCE IF NOT EXISTS queue_id_sequence'], objects: { queue: { name: 'kombu_queue', schema: null, sequences: [] } } }
}

describe('probeSchema', () => {
  it('takes a well-formed report, even from a process that does not exit', async () => {
    const outcome = await probeSchema(spec(fakePython(JSON.stringify(good), 'sleep 30')))
    expect(outcome.ok).toBe(true)
  })

  it('refuses a statement that is not one of the CREATE … IF NOT EXISTS kinds schema.py makes', async () => {
    const hostile = { ...good, broker: { ...good.broker, statements: ['DROP TABLE invoices'] } }
    const outcome = await probeSchema(spec(fakePython(JSON.stringify(hostile))))
    expect(outcome).toMatchObject({ ok: false, message: expect.stringMatching(/unexpected shape at broker\.statements\.0/) })
  })

  it('refuses a statement that smuggles a second one, a comment or a psql meta-command past its CREATE', async () => {
    const smuggled = [
      'CREATE TABLE IF NOT EXISTS kombu_queue (id integer); ALTER ROLE app_user SUPERUSER',
      "CREATE TABLE IF NOT EXISTS kombu_queue (id integer DEFAULT 'a\\'); ALTER ROLE app_user SUPERUSER; SELECT '')",
      'CREATE TABLE IF NOT EXISTS kombu_queue (id integer)\n\\! touch /tmp/pwned',
      'CREATE TABLE IF NOT EXISTS kombu_queue (id integer) $$; DROP TABLE invoices; $$',
      'CREATE TABLE IF NOT EXISTS kombu_queue (id integer) -- ; ignored',
      'CREATE TABLE IF NOT EXISTS "kombu_queue (id integer); DROP TABLE invoices'
    ]
    for (const statement of smuggled) {
      const hostile = { ...good, broker: { ...good.broker, statements: [statement] } }
      const outcome = await probeSchema(spec(fakePython(JSON.stringify(hostile))))
      expect(outcome, statement).toMatchObject({ ok: false, message: expect.stringMatching(/unexpected shape at broker\.statements\.0/) })
    }
    // A quoted name may hold any of those: it is one identifier.
    const quoted = { ...good, broker: { ...good.broker, statements: ['CREATE TABLE IF NOT EXISTS "q;--$$" (id integer, "it\'s" text)'] } }
    expect(await probeSchema(spec(fakePython(JSON.stringify(quoted))))).toMatchObject({ ok: true })
  })

  it("says the app did not import, with Python's own line", async () => {
    const failed = { event: 'import-error', type: 'ModuleNotFoundError', message: "ModuleNotFoundError: No module named 'x'", traceback: 'Traceback …' }
    expect(await probeSchema(spec(fakePython(JSON.stringify(failed))))).toMatchObject({
      ok: false,
      message: "the app did not import: ModuleNotFoundError: No module named 'x'"
    })
  })

  it('an interpreter that writes no report: how it ended, and its stderr', async () => {
    const outcome = await probeSchema(spec(fakePython(undefined, 'exit 3', 'boom')))
    expect(outcome).toMatchObject({ ok: false, message: expect.stringMatching(/exited with code 3 without a report/), details: 'boom\n' })
  })

  it('an import that hangs: bounded by the timeout', async () => {
    const outcome = await probeSchema(spec(fakePython(undefined, 'sleep 30'), 1000))
    expect(outcome).toMatchObject({ ok: false, message: 'the app did not import within 1 s (app.celery_app)' })
  })

  it('a missing interpreter: named', async () => {
    expect(await probeSchema(spec(path.join(dir, 'no-such-python')))).toMatchObject({ ok: false, message: expect.stringMatching(/was not found/) })
  })
})
