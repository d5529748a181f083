// "psycopg missing under SQLAlchemy 2.1" in the exact environment (issue 14): Celery 5.7, kombu
// 5.7, SQLAlchemy 2.1 and ONLY psycopg2 — no psycopg 3. Built offline in seconds from the two
// ready environments: a fresh venv (same Python 3.11) whose site-packages links every package of
// the Celery 5.7 environment except psycopg 3, plus psycopg2 from the Celery 5.2 environment. The
// packages are the real installed ones; only the set differs. On `postgresql://` SQLAlchemy 2.1
// picks psycopg 3, so broker-config must fail before the boot, naming the module and both fixes.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GATE_IDS } from '../../src/constants.js'
import { gate, pythonFor } from '../support/action.js'
import { exampleDatabase, runOnExample, secretsOf } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'

let pg: TestPostgres
let venv: string

const sitePackages = (python: string): string =>
  execFileSync(python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { encoding: 'utf8' }).trim()

function psycopg2OnlyVenv(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cfg-sqla21-psycopg2-'))
  // The 5.7 environment's own base interpreter, so the linked binary wheels match.
  execFileSync(pythonFor('5.7'), ['-c', 'import sys, venv; venv.create(sys.argv[1], with_pip=False)', dir])
  const python = path.join(dir, 'bin', 'python')
  const target = sitePackages(python)
  const from57 = sitePackages(pythonFor('5.7'))
  for (const entry of readdirSync(from57)) if (!/^psycopg(?!2)/i.test(entry)) symlinkSync(path.join(from57, entry), path.join(target, entry))
  const from52 = sitePackages(pythonFor('5.2'))
  for (const entry of readdirSync(from52)) if (/^psycopg2/i.test(entry)) symlinkSync(path.join(from52, entry), path.join(target, entry))
  return python
}

beforeAll(async () => {
  pg = await TestPostgres.start()
  venv = psycopg2OnlyVenv()
})
afterAll(async () => {
  await pg?.destroy()
  if (venv) rmSync(path.dirname(path.dirname(venv)), { recursive: true, force: true })
})

describe('SQLAlchemy 2.1 with only psycopg2', () => {
  it('is the environment it claims to be', () => {
    const out = execFileSync(
      venv,
      ['-c', 'import celery, sqlalchemy, psycopg2, importlib.util as u; print(celery.__version__, sqlalchemy.__version__, u.find_spec("psycopg") is None)'],
      { encoding: 'utf8' }
    ).trim()
    expect(out).toMatch(/^5\.7\.\d+ 2\.1\.\d+ True$/)
    expect(existsSync(venv)).toBe(true)
  })

  it('broker-config fails before the boot, naming psycopg and both fixes', async () => {
    const db = await exampleDatabase(pg)
    const result = await runOnExample('5.7', db, { python: venv, timeout: '60' })
    checkStep(
      'Faults',
      'SQLAlchemy 2.1 with only psycopg2 (postgresql:// means psycopg 3)',
      result,
      {
        code: 1,
        gates: { 'broker-config': 'fail' },
        evidence:
          /the broker URL gets the driver psycopg from SQLAlchemy 2\.1\.\d+, and its module does not import in python \(ModuleNotFoundError: No module named 'psycopg'\)/,
        timeoutS: 25,
        marginS: 0,
        secrets: secretsOf(db)
      },
      'named within seconds, before the worker dies of it, with the install and the +psycopg2 fix'
    )
    expect(gate(result, 'broker-config').evidence).toContain(
      'install it (pip install "psycopg[binary]"), or keep the installed psycopg2 by writing postgresql+psycopg2:// in the URL'
    )
  })

  it('the fix it names works: postgresql+psycopg2:// in the URL, and every gate passes', async () => {
    const db = await exampleDatabase(pg)
    const url = db.url.replace(/^postgresql:\/\//, 'postgresql+psycopg2://')
    const result = await runOnExample('5.7', db, { python: venv, timeout: '60' }, { env: { DATABASE_URL: url } })
    checkStep(
      'Faults',
      'SQLAlchemy 2.1 with only psycopg2, URL pinned to +psycopg2',
      result,
      {
        code: 0,
        gates: Object.fromEntries(GATE_IDS.filter((g) => g !== 'dlq').map((g) => [g, 'pass'])),
        evidenceOf: 'runtime',
        evidence: /answered 'pong'/,
        timeoutS: 60,
        secrets: [...secretsOf(db), url]
      },
      'no false alarm once the driver is pinned'
    )
  })
})
