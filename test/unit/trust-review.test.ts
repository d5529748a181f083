// Forms of a credential found by the adversarial review of the trust work: each leaked before.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { MAX_REPORT_FILES, MAX_TOTAL_REPORT_BYTES, REPORT_SEARCH_MS, readJUnitReports, readReportFile } from '../../src/junit/read.js'
import { SecretRegistry, registerEnvironmentSecrets } from '../../src/secrets.js'
import { scrubCredentials } from '../../src/util/scrub.js'

const PW = 'Un5egistered-pw'

describe('scrubCredentials: URLs written in other encodings', () => {
  it('cuts the password of a URL in a JSON record with escaped slashes (ujson, PHP, Java loggers)', () => {
    const line = `{"event": "connect", "dsn": "postgresql:\\/\\/app:${PW}@db:5432\\/app"}`
    expect(scrubCredentials(line)).toBe('{"event": "connect", "dsn": "postgresql:\\/\\/app:***@db:5432\\/app"}')
  })

  it('cuts the password of a percent-encoded URL (a DSN passed as a query parameter)', () => {
    const line = `GET /health?next=postgresql%3A%2F%2Fapp%3A${PW}%40db%3A5432%2Fapp HTTP/1.1`
    expect(scrubCredentials(line)).toBe('GET /health?next=postgresql%3A%2F%2Fapp%3A***%40db%3A5432%2Fapp HTTP/1.1')
    expect(scrubCredentials(line.toLowerCase())).not.toContain(PW.toLowerCase())
  })

  it("cuts a bytes repr of a password key (`b'password': b'…'`)", () => {
    expect(scrubCredentials(`{b'password': b'${PW}'}`)).not.toContain(PW)
  })
})

describe('SecretRegistry: the forms Python and JSON give a registered password', () => {
  const password = 'pw-1a2b@:/%!'
  const registry = new SecretRegistry()
  registry.add(password)
  const forms: Array<[string, string]> = [
    ['urllib.parse.quote (keeps /)', 'pw-1a2b%40%3A/%25%21'],
    ["urllib.parse.quote_plus (SQLAlchemy 2.1's URL too)", 'pw-1a2b%40%3A%2F%25%21'],
    ['lower-case percent-encoding', 'pw-1a2b%40%3a%2f%25!'],
    ['JSON with escaped slashes', 'pw-1a2b@:\\/%!']
  ]
  for (const [name, form] of forms) {
    it(`hides the ${name} form`, () => {
      expect(registry.redact(`x ${form} y`)).toBe('x *** y')
    })
  }
})

describe('readJUnitReports: what the pull request writes is read within a total bound', () => {
  const junit = (n: number): string => `<?xml version="1.0"?>\n<testsuite name="s">${'<testcase classname="c" name="t"/>'.repeat(n)}</testsuite>\n`

  it("stops parsing once the reports read total the run's byte budget: the rest are findings, not read", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-review-junit-'))
    for (const name of ['a.xml', 'b.xml', 'c.xml']) writeFileSync(path.join(dir, name), junit(100))
    const size = statSync(path.join(dir, 'a.xml')).size
    let cases = 0
    const { files } = await readJUnitReports(['*.xml'], { cwd: dir, onCase: () => cases++, maxTotalBytes: size * 2 + 10 })
    expect(files.map((f) => f.status)).toEqual(['ok', 'ok', 'unreadable'])
    expect(files[2]?.detail).toMatch(/reports read in this run past .*; not parsed/)
    expect(cases).toBe(200)
  })

  it('opens at most maxFiles reports and says how many more matched, in one entry', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-review-junit-'))
    for (let i = 0; i < 30; i++) writeFileSync(path.join(dir, `r${String(i).padStart(2, '0')}.xml`), junit(1))
    let cases = 0
    const { files } = await readJUnitReports(['*.xml'], { cwd: dir, onCase: () => cases++, maxFiles: 10 })
    expect(files).toHaveLength(11)
    expect(cases).toBe(10)
    expect(files[10]).toMatchObject({
      status: 'unreadable',
      path: '(20 more files)',
      detail: expect.stringMatching(/^not read: 30 files matched, the first 10 are read/)
    })
  })

  it('the defaults: 512 MiB in total, 10,000 files', () => {
    expect(MAX_TOTAL_REPORT_BYTES).toBe(512 * 1024 * 1024)
    expect(MAX_REPORT_FILES).toBe(10_000)
  })
})

describe('readReportFile: a report another process keeps writing', () => {
  it('reads the size it found when it opened the file, not what is appended while it reads', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-review-grow-'))
    const file = path.join(dir, 'junit.xml')
    writeFileSync(file, `<?xml version="1.0"?>\n<testsuite name="s">\n${'<testcase classname="c" name="t"/>\n'.repeat(1000)}`)
    // The worker (pull-request code) may still run while the reports are read (keep-worker).
    // 70 KB every 5 ms: faster than a test case is classified, slow enough to spare the disk.
    const append = `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(file)},'a');const b=Buffer.from('<testcase classname="c" name="t"/>\\n'.repeat(2000));setInterval(()=>fs.writeSync(fd,b),5)`
    const writer = spawn(process.execPath, ['-e', append], { stdio: 'ignore' })
    try {
      await new Promise((r) => setTimeout(r, 50))
      let cases = 0
      const read = await Promise.race([readReportFile(file, 'junit.xml', () => cases++), new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))])
      expect(read).not.toBe('hung')
      // Cut where the file ended when it was opened: the suite is unclosed, its cases are counted.
      expect(read).toMatchObject({ status: 'malformed' })
      expect(cases).toBeGreaterThanOrEqual(1000)
    } finally {
      writer.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    }
  }, 30_000)
})

describe('credentials in variables named the short way (`DB_PASS`, `MYSQL_PWD`)', () => {
  it('registers their values before anything runs, but not PWD (the current directory)', () => {
    const registry = new SecretRegistry()
    registerEnvironmentSecrets({ DB_PASS: 'dbpass-9x7', MYSQL_PWD: 'mysqlpwd-4k2', PWD: '/home/runner/work', OLDPWD: '/tmp', BYPASS: 'bypass-value' }, registry)
    expect(registry.redact('dbpass-9x7 mysqlpwd-4k2 /home/runner/work /tmp bypass-value')).toBe('*** *** /home/runner/work /tmp bypass-value')
  })

  it("cuts `db_pass=…` and `'db_pwd': …` by pattern", () => {
    expect(scrubCredentials("connect(db_pass='x9y8', user='app')")).toBe("connect(db_pass='***', user='app')")
    expect(scrubCredentials("{'db_pwd': 'x9y8'}")).toBe("{'db_pwd': '***'}")
    expect(scrubCredentials('bypass=1 compass=north')).toBe('bypass=1 compass=north')
  })
})

describe("pydantic's truncated input_value (first 25 and last 24 characters of the repr)", () => {
  it('cuts the start of a password that the ellipsis separates from its `@`', () => {
    // repr of 'postgresql://app:averyLongSecretPassw0rd@reporting.internal:5432/reports', truncated by pydantic-core
    const line = "  Input should be a valid URL [type=url_parsing, input_value='postgresql://app:averyLo...internal:5432/reports', input_type=str]"
    expect(scrubCredentials(line)).toBe(
      "  Input should be a valid URL [type=url_parsing, input_value='postgresql://app:***...internal:5432/reports', input_type=str]"
    )
  })

  it('leaves a host and port before an ellipsis alone', () => {
    expect(scrubCredentials('Connecting to redis://localhost:6379...')).toBe('Connecting to redis://localhost:6379...')
  })
})

describe('readJUnitReports: a linked directory that leads to / is not a search of the whole machine', () => {
  it('stops searching after searchMs and says so in one entry', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-review-glob-'))
    writeFileSync(path.join(dir, 'a.xml'), '<testsuite name="s"><testcase classname="c" name="t"/></testsuite>\n')
    // Committed by the pull request: `**/*.xml` would walk the runner's whole file system.
    symlinkSync('/', path.join(dir, 'root'))
    try {
      const started = performance.now()
      const { files } = await readJUnitReports(['**/*.xml'], { cwd: dir, onCase: () => {}, searchMs: 300 })
      const stopped = files.find((f) => f.path === '(search stopped)')
      expect(stopped?.detail).toMatch(/^not read: the search for reports stopped after 0\.3 s/)
      // Bounded, not timed: far below the minutes a runner's file system takes to walk.
      expect(performance.now() - started).toBeLessThan(30_000)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)

  it('the default: 30 s', () => {
    expect(REPORT_SEARCH_MS).toBe(30_000)
  })
})
