import { execFileSync } from 'node:child_process'
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ReportCounts, ReportFile, TestCase } from '../../src/junit/model.js'
import { MAX_DEPTH } from '../../src/junit/parse.js'
import { readJUnitReports, readReportFile, workspaceRoots, type ReadOptions } from '../../src/junit/read.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/junit/', import.meta.url))
const TEARDOWN_MESSAGE = 'failed on teardown with "RuntimeError: could not drop schema"'

let scratch = ''
beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'junit-read-'))
})
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true })
})

/** Reads one file (a fixture by default) and returns its ReportFile with the cases it delivered. */
async function read(file: string, options: Partial<ReadOptions> = {}): Promise<{ report: ReportFile; cases: TestCase[] }> {
  const cases: TestCase[] = []
  const result = await readJUnitReports([file], { cwd: FIXTURES, onCase: (tc) => cases.push(tc), ...options })
  expect(result.unmatched).toEqual([])
  expect(result.files).toHaveLength(1)
  const [report] = result.files
  if (report === undefined) throw new Error('no report')
  expect(report.counts.cases).toBe(cases.length)
  return { report, cases }
}

/** Writes a generated file into the scratch directory and reads it. */
async function readWritten(name: string, content: string | Buffer, options: Partial<ReadOptions> = {}) {
  writeFileSync(path.join(scratch, name), content)
  return read(name, { cwd: scratch, ...options })
}

function only(cases: TestCase[], name: string): TestCase {
  const found = cases.filter((tc) => tc.name === name)
  expect(found, name).toHaveLength(1)
  return found[0] as TestCase
}

/** The two <testcase> elements pytest writes for a test whose call failed and whose teardown errored. */
function twice(cases: TestCase[], name: string): [TestCase, TestCase] {
  const found = cases.filter((tc) => tc.name === name)
  expect(found, name).toHaveLength(2)
  return found as [TestCase, TestCase]
}

function counts(partial: Partial<ReportCounts>): ReportCounts {
  return { cases: 0, passed: 0, failed: 0, errored: 0, skipped: 0, xfailed: 0, xpassed: 0, ...partial }
}

const suite = (body: string): string =>
  `<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="pytest tests"><testsuite name="pytest">${body}</testsuite></testsuites>\n`

describe('pytest reports (written by pytest 9.2)', () => {
  it('reads every outcome of the default xunit2 family', async () => {
    const { report, cases } = await read('pytest-xunit2.xml')
    expect(report).toMatchObject({ pattern: 'pytest-xunit2.xml', path: 'pytest-xunit2.xml', status: 'ok', tool: 'pytest' })
    expect(report.detail).toBeUndefined()
    expect(report.bytes).toBe(statSync(path.join(FIXTURES, 'pytest-xunit2.xml')).size)
    expect(report.counts).toEqual(counts({ cases: 15, passed: 4, failed: 5, errored: 4, skipped: 1, xfailed: 1 }))
    expect(cases.map((tc) => tc.name)).toEqual([
      'tests.test_broken',
      'test_passes',
      'test_fails',
      'test_setup_error',
      'test_teardown_error',
      'test_fails_and_teardown_error',
      'test_fails_and_teardown_error',
      'test_skipped',
      'test_xfail',
      'test_xpass_strict',
      'test_xpass_loose',
      'test_output',
      'test_hostile',
      'test_param[a|b]',
      'test_param[<x>]'
    ])
    expect(cases.every((tc) => tc.report === 'pytest-xunit2.xml' && !tc.truncated)).toBe(true)

    const failed = only(cases, 'test_fails')
    expect(failed).toMatchObject({
      classname: 'tests.test_shapes',
      outcome: 'failure',
      phase: 'call',
      message: 'AssertionError: numbers differ\nassert 1 == 2',
      type: '',
      timeSeconds: 0.001,
      systemOut: '',
      systemErr: ''
    })
    expect(failed.text.startsWith('def test_fails():\n>       assert 1 == 2, "numbers differ"\n')).toBe(true)
    expect(failed.text.endsWith('tests/test_shapes.py:8: AssertionError')).toBe(true)
    expect(failed.file).toBeUndefined()
    expect(failed.line).toBeUndefined()
    expect(failed.alsoFailed).toBeUndefined()

    expect(only(cases, 'test_passes')).toMatchObject({ outcome: 'passed', phase: 'call', message: '', text: '' })
    expect(only(cases, 'test_setup_error')).toMatchObject({
      outcome: 'error',
      phase: 'setup',
      message: 'failed on setup with "RuntimeError: database is not reachable"'
    })
    expect(only(cases, 'test_teardown_error')).toMatchObject({ outcome: 'error', phase: 'teardown', message: TEARDOWN_MESSAGE })
    const collection = only(cases, 'tests.test_broken')
    expect(collection).toMatchObject({ classname: '', outcome: 'error', phase: 'collection', message: 'collection failure' })
    expect(collection.text).toContain("E   ModuleNotFoundError: No module named 'not_a_module_anywhere'")
    expect(only(cases, 'test_skipped')).toMatchObject({
      outcome: 'skipped',
      type: 'pytest.skip',
      message: 'needs redis',
      text: '/home/runner/work/app/app/tests/test_shapes.py:20: needs redis'
    })
    expect(only(cases, 'test_xfail')).toMatchObject({ outcome: 'xfailed', type: 'pytest.xfail', message: 'known bug 12', text: '' })
    // A strict XPASS stays a failure; its message tells it apart.
    expect(only(cases, 'test_xpass_strict')).toMatchObject({
      outcome: 'failure',
      phase: 'call',
      message: '[XPASS(strict)] fixed upstream',
      text: '[XPASS(strict)] fixed upstream'
    })
    expect(only(cases, 'test_xpass_loose').outcome).toBe('passed')
    // pytest writes control characters as the literal text `#x1B`; markup stays data.
    expect(only(cases, 'test_hostile').message).toBe('AssertionError: <b>bold</b> | pipe | `tick` #x1B[31mred#x1B[0m & done')
  })

  it('hands the call failure and the teardown error of one test over as two cases, each with its own cause', async () => {
    const { cases } = await read('pytest-xunit2.xml')
    const [call, teardown] = twice(cases, 'test_fails_and_teardown_error')
    expect(call).toMatchObject({ outcome: 'failure', phase: 'call', message: 'AssertionError: call failed first\nassert False' })
    expect(call.alsoFailed).toBeUndefined()
    expect(call.text).toContain('E       AssertionError: call failed first')
    expect(call.text).not.toContain('could not drop schema')
    expect(teardown).toMatchObject({ outcome: 'error', phase: 'teardown', message: TEARDOWN_MESSAGE })
    expect(teardown.alsoFailed).toBeUndefined()
    expect(teardown.text).toContain('E       RuntimeError: could not drop schema')
  })

  it('reads file and line of the xunit1 family, the line counted from 1', async () => {
    const { report, cases } = await read('pytest-xunit1.xml')
    expect(report.counts).toEqual(counts({ cases: 6, passed: 1, failed: 2, errored: 2, skipped: 1 }))
    // pytest writes the 0-based line of the `def` (`line="3"` for line 4).
    expect(only(cases, 'test_passes')).toMatchObject({ file: 'tests/test_shapes.py', line: 4, outcome: 'passed' })
    expect(only(cases, 'test_fails')).toMatchObject({ file: 'tests/test_shapes.py', line: 7, outcome: 'failure' })
    const [call, teardown] = twice(cases, 'test_fails_and_teardown_error')
    expect(call).toMatchObject({ line: 16, outcome: 'failure', phase: 'call' })
    expect(teardown).toMatchObject({ line: 16, outcome: 'error', phase: 'teardown', message: TEARDOWN_MESSAGE })
  })

  it('keeps the captured output of junit_logging, joining repeated elements', async () => {
    const { report, cases } = await read('pytest-logging.xml')
    expect(report.counts).toEqual(counts({ cases: 4, failed: 2, errored: 1, skipped: 1 }))
    const output = only(cases, 'test_output')
    expect(output.systemOut).toMatch(/^-+ Captured Log -+\n\n-+ Captured Out -+\nhello from stdout$/)
    expect(output.systemErr).toMatch(/^-+ Captured Err -+\nhello from stderr$/)
    // pytest writes the output of a double entry with its teardown half.
    const [call, teardown] = twice(cases, 'test_fails_and_teardown_error')
    expect(teardown.phase).toBe('teardown')
    expect(call.systemOut + call.systemErr + teardown.systemOut + teardown.systemErr).toMatch(/-+ Captured Log -+/)
    expect(teardown.systemErr).toMatch(/^-+ Captured Err -+$/)
    // A skipped test gets its output twice (setup and teardown).
    expect(only(cases, 'test_skipped').systemOut.match(/Captured Out/g)).toHaveLength(2)
  })

  it('keeps the first problem of a testcase and the second as alsoFailed', async () => {
    const { report, cases } = await read('pytest-two-problems.xml')
    expect(report.counts).toEqual(counts({ cases: 3, errored: 3 }))
    expect(only(cases, 'test_setup_and_teardown_error')).toMatchObject({
      outcome: 'error',
      phase: 'setup',
      message: 'failed on setup with "RuntimeError: database is not reachable"',
      alsoFailed: { phase: 'teardown', outcome: 'error', message: TEARDOWN_MESSAGE }
    })
    // A teardown error outweighs the skip written before it.
    const skipped = only(cases, 'test_skip_then_teardown_error')
    expect(skipped).toMatchObject({ outcome: 'error', phase: 'teardown', message: TEARDOWN_MESSAGE })
    expect(skipped.alsoFailed).toBeUndefined()
    expect(only(cases, 'test_passes_then_teardown_error')).toMatchObject({ outcome: 'error', phase: 'teardown' })
  })

  it('hands over both halves of a double entry that pytest-xdist wrote with another test between them, in document order', async () => {
    const { report, cases } = await read('pytest-xdist-interleaved.xml')
    expect(report.counts).toEqual(counts({ cases: 3, passed: 1, failed: 1, errored: 1 }))
    expect(cases.map((tc) => tc.name)).toEqual(['test_migrate', 'test_ping', 'test_migrate'])
    expect(cases[0]).toMatchObject({ outcome: 'failure', phase: 'call', message: 'AssertionError: 3 tables, expected 4', systemOut: '' })
    expect(cases[2]).toMatchObject({ outcome: 'error', phase: 'teardown', message: TEARDOWN_MESSAGE, systemOut: 'teardown log line' })
    expect(cases[0]?.timeSeconds).toBeCloseTo(0.12, 9)
  })

  it("reads pytest's internal error case", async () => {
    const { report, cases } = await read('pytest-internal-error.xml')
    expect(report.counts).toEqual(counts({ cases: 1, errored: 1 }))
    const [internal] = cases
    expect(internal).toMatchObject({ classname: 'pytest', name: 'internal', outcome: 'error', message: 'internal error' })
    expect(internal?.text.endsWith('RuntimeError: plugin exploded')).toBe(true)
  })
})

describe('vitest and jest-junit reports', () => {
  it('reads what vitest 4 writes, a file that failed to load included', async () => {
    const { report, cases } = await read('vitest.xml')
    expect(report).toMatchObject({ status: 'ok', tool: 'vitest' })
    expect(report.counts).toEqual(counts({ cases: 8, passed: 1, failed: 4, skipped: 3 }))
    expect(only(cases, 'src/broken.test.js')).toMatchObject({
      classname: 'src/broken.test.js',
      outcome: 'failure',
      phase: 'collection',
      type: 'Error',
      message: "Cannot find module './does-not-exist.js' imported from /home/runner/work/app/app/src/broken.test.js"
    })
    const failed = only(cases, 'math > fails')
    expect(failed).toMatchObject({
      classname: 'src/math.test.js',
      outcome: 'failure',
      phase: 'call',
      type: 'AssertionError',
      message: 'expected 1 to be 2 // Object.is equality',
      timeSeconds: 0.016770818
    })
    // The indentation vitest puts around the stack is dropped.
    expect(failed.text).toMatch(/^AssertionError: expected 1 to be 2 \/\/ Object\.is equality\n\n- Expected\n/)
    expect(failed.text.endsWith(' ❯ src/math.test.js:3:33')).toBe(true)
    expect(only(cases, 'math > nested <b>|x|</b> > logs')).toMatchObject({
      outcome: 'failure',
      message: 'expected { a: 1 } to deeply equal { a: 2 }',
      systemOut: 'out line',
      systemErr: 'err line'
    })
    expect(only(cases, 'math > todo one')).toMatchObject({ outcome: 'skipped', message: '', type: '', text: '' })
    expect(only(cases, 'with hooks')).toMatchObject({ outcome: 'failure', phase: 'call', message: 'beforeAll exploded' })
  })

  it("reads the errors of vitest's unhandled-errors suite", async () => {
    const { report, cases } = await read('vitest-unhandled-errors.xml')
    expect(report.counts).toEqual(counts({ cases: 2, passed: 1, errored: 1 }))
    expect(only(cases, 'Unhandled Rejection')).toMatchObject({
      classname: 'vitest unhandled errors',
      outcome: 'error',
      phase: 'call',
      type: 'Error',
      message: 'late boom',
      text: 'Error: late boom\n ❯ src/worker.test.ts:9:11'
    })
  })

  it('reads jest-junit, taking the message from the first line of the text', async () => {
    const { report, cases } = await read('jest-junit.xml')
    expect(report).toMatchObject({ status: 'ok', tool: 'jest' })
    expect(report.counts).toEqual(counts({ cases: 4, passed: 1, failed: 1, errored: 1, skipped: 1 }))
    const failed = only(cases, 'sum handles negatives')
    expect(failed).toMatchObject({
      classname: 'sum handles negatives',
      outcome: 'failure',
      message: 'Error: expect(received).toBe(expected) // Object.is equality',
      type: ''
    })
    expect(failed.text).toContain('Expected: -2\nReceived: 2\n    at Object.<anonymous>')
    expect(only(cases, 'broken.test.js')).toMatchObject({
      classname: 'Test suite failed to run',
      outcome: 'error',
      phase: 'collection',
      message: '● Test suite failed to run'
    })
    // Console output that jest-junit writes per suite belongs to no case.
    expect(cases.every((tc) => tc.systemOut === '')).toBe(true)
  })

  it('reads a bare <testsuite> root and CDATA output', async () => {
    const { report, cases } = await read('junit-bare-testsuite.xml')
    expect(report).toMatchObject({ status: 'ok', tool: 'junit' })
    expect(report.counts).toEqual(counts({ cases: 3, passed: 1, failed: 1, errored: 1 }))
    expect(only(cases, 'publishes')).toMatchObject({
      outcome: 'failure',
      type: 'org.opentest4j.AssertionFailedError',
      message: 'expected: <1> but was: <2>'
    })
    expect(only(cases, 'reconnects')).toMatchObject({
      outcome: 'error',
      phase: 'call',
      message: 'Connection refused',
      systemOut: 'connecting to 127.0.0.1:5432 <attempt 1>'
    })
  })

  it('reads a report without cases as ok with zero counts', async () => {
    const { report } = await readWritten('none.xml', '<testsuites name="x"><testsuite name="y" tests="0"/></testsuites>')
    expect(report).toMatchObject({ status: 'ok', tool: 'junit', counts: counts({}) })
  })
})

describe('hostile content', () => {
  it('keeps markup, pipes, backticks and allowed control characters as data', async () => {
    const { report, cases } = await read('hostile.xml')
    expect(report.status).toBe('ok')
    expect(report.counts).toEqual(counts({ cases: 3, failed: 1, errored: 1, skipped: 1 }))
    const html = only(cases, 'test_<img src=x onerror=alert(1)>')
    expect(html.message).toBe('</details><h1>pwned</h1> | a | b |')
    expect(html.text).toBe('| col | col |\n|-----|-----|\n```` fence\n<b>not markup</b> ]] still text')
    const control = only(cases, 'test_tab\tand\u007fdel\u0085nel')
    expect(control.message).toBe('line1\nline2\r\n`tick` #x1B[31mred#x1B[0m')
    expect(control.text).toBe('bell #x07 and escape #x1B (pytest writes these as text) ]]> and &amp;')
    expect(only(cases, 'test_émoji_🎉_\u202ertl').message).toBe('@here [link](javascript:alert(1)) ${{ secrets.X }}')
  })

  it('ends a file with a character reference XML forbids as malformed, keeping the cases before it', async () => {
    const { report, cases } = await read('invalid-char-reference.xml')
    expect(report).toMatchObject({ status: 'malformed', detail: 'line 6, column 30: malformed character entity' })
    expect(cases.map((tc) => tc.name)).toEqual(['test_before'])
  })

  it('ends a file with a raw control character as malformed', async () => {
    const { report, cases } = await readWritten('control.xml', suite('<testcase classname="c" name="a\u0001b"/>'))
    expect(report).toMatchObject({ status: 'malformed', detail: 'line 2, column 89: disallowed character' })
    expect(cases).toEqual([])
  })
})

describe('entities and DTDs', () => {
  it('never expands an entity bomb: the first reference makes the file malformed', async () => {
    const { report, cases } = await read('billion-laughs.xml')
    expect(report).toMatchObject({ status: 'malformed', detail: 'line 18, column 30: undefined entity', tool: 'junit' })
    expect(cases.map((tc) => tc.name)).toEqual(['before the bomb'])
  })

  it('never reads an external entity', async () => {
    const { report, cases } = await read('external-entity.xml')
    expect(report).toMatchObject({ status: 'malformed', detail: 'line 8, column 38: undefined entity' })
    expect(cases).toEqual([])
  })
})

describe('files that are not usable reports', () => {
  it('says a 0-byte file is empty', async () => {
    const { report } = await read('empty.xml')
    expect(report).toEqual({
      pattern: 'empty.xml',
      path: 'empty.xml',
      status: 'empty',
      detail: 'the file is empty (0 bytes)',
      bytes: 0,
      counts: counts({})
    })
  })

  it('says a whitespace-only file is empty', async () => {
    const { report } = await read('blank.xml')
    expect(report).toMatchObject({ status: 'empty', detail: 'the file holds only whitespace (6 bytes)', bytes: 6 })
    expect(report.tool).toBeUndefined()
  })

  it('says valid XML with another root is not JUnit', async () => {
    const { report, cases } = await read('not-junit-coverage.xml')
    expect(report).toMatchObject({
      status: 'not-junit',
      detail: 'the root element is <coverage>, not <testsuites> or <testsuite>',
      counts: counts({})
    })
    expect(report.tool).toBeUndefined()
    expect(cases).toEqual([])
  })

  it('keeps the cases of a cut-off file and says where it ends', async () => {
    const { report, cases } = await read('truncated.xml')
    expect(report).toMatchObject({
      status: 'malformed',
      tool: 'pytest',
      detail: 'line 24, column 77: unclosed tag: testcase; the file ends early'
    })
    expect(report.counts).toEqual(counts({ cases: 3, passed: 1, failed: 1, errored: 1 }))
    expect(cases.map((tc) => tc.name)).toEqual(['tests.test_broken', 'test_passes', 'test_fails'])
  })

  it('keeps the cases before a broken tag and nothing after it', async () => {
    const { report, cases } = await read('mismatched-tag.xml')
    expect(report).toMatchObject({ status: 'malformed', detail: 'line 9, column 54: unexpected close tag' })
    expect(report.counts).toEqual(counts({ cases: 2, passed: 1, failed: 1 }))
    expect(cases.map((tc) => tc.name)).toEqual(['test_one', 'test_two'])
  })

  it('says a binary file is malformed', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52])
    const { report } = await readWritten('image.xml', png)
    expect(report).toMatchObject({ status: 'malformed', detail: 'binary data (it holds NUL bytes), not XML text', bytes: 16 })
  })

  it('says text that is not XML is malformed, with its size and never its content', async () => {
    const content = 'DATABASE_PASSWORD=hunter2-secret\nFAILED tests/test_x.py::test_y - assert 1 == 2\n'
    const { report } = await readWritten('log.xml', content)
    expect(report).toMatchObject({
      status: 'malformed',
      detail: `not XML: ${content.length} bytes of text that does not start with "<" (its content is not shown)`
    })
    expect(JSON.stringify(report)).not.toContain('hunter2')
  })

  it(`ends a file nested deeper than ${MAX_DEPTH} elements as malformed, keeping the cases before it`, async () => {
    const deep = `${'<testsuite name="s">'.repeat(MAX_DEPTH + 10)}${'</testsuite>'.repeat(MAX_DEPTH + 10)}`
    const { report, cases } = await readWritten('deep.xml', suite(`<testcase classname="c" name="before"/>${deep}`))
    expect(report).toMatchObject({ status: 'malformed', detail: `line 2: elements nested deeper than ${MAX_DEPTH} levels; reading stopped there` })
    expect(cases.map((tc) => tc.name)).toEqual(['before'])
  })

  it('stops 2 million nested elements at the depth limit without reading the rest', async () => {
    // 14 MB, streamed to disk: read in full, saxes would hold 2 million open tags (~700 MB).
    const file = path.join(scratch, 'deep-2m.xml')
    const out = createWriteStream(file)
    out.write('<testsuites>')
    const open = '<a>'.repeat(10_000)
    const close = '</a>'.repeat(10_000)
    for (let i = 0; i < 200; i++) if (!out.write(open)) await once(out, 'drain')
    for (let i = 0; i < 200; i++) if (!out.write(close)) await once(out, 'drain')
    out.end('</testsuites>')
    await once(out, 'close')
    const { report } = await read('deep-2m.xml', { cwd: scratch })
    expect(report).toMatchObject({ status: 'malformed', detail: `line 1: elements nested deeper than ${MAX_DEPTH} levels; reading stopped there` })
  })

  it('does not parse a file over the size limit', async () => {
    const bytes = statSync(path.join(FIXTURES, 'pytest-xunit2.xml')).size
    const { report, cases } = await read('pytest-xunit2.xml', { maxFileBytes: 100 })
    expect(report).toMatchObject({
      status: 'unreadable',
      detail: `${(bytes / 1024).toFixed(1)} KiB is over the 100 bytes limit; not parsed`,
      bytes,
      counts: counts({})
    })
    expect(cases).toEqual([])
  })

  it('says a path that vanished or is not a regular file is unreadable', async () => {
    const onCase = (): void => {}
    const missing = await readReportFile(path.join(scratch, 'gone.xml'), 'gone.xml', onCase)
    expect(missing.status).toBe('unreadable')
    expect(missing.detail).toMatch(/^cannot read it: ENOENT: no such file or directory/)
    const fifo = path.join(scratch, 'fifo.xml')
    execFileSync('mkfifo', [fifo])
    expect(await readReportFile(fifo, 'fifo.xml', onCase)).toEqual({
      status: 'unreadable',
      detail: 'not a regular file',
      bytes: 0,
      counts: counts({})
    })
  })

  it('lets an error thrown by onCase through', async () => {
    const onCase = (): void => {
      throw new Error('caller broke')
    }
    await expect(readJUnitReports(['pytest-xunit2.xml'], { cwd: FIXTURES, onCase })).rejects.toThrow('caller broke')
  })
})

describe('encodings', () => {
  it('reads a UTF-8 byte order mark', async () => {
    const { report, cases } = await readWritten('bom.xml', `\ufeff${suite('<testcase classname="c" name="bom"/>')}`)
    expect(report.status).toBe('ok')
    expect(cases.map((tc) => tc.name)).toEqual(['bom'])
  })

  it('reads UTF-16 with a byte order mark', async () => {
    const text = suite('<testcase classname="c" name="wide ✓"/>').replace('utf-8', 'utf-16')
    const { report, cases } = await readWritten('utf16.xml', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]))
    expect(report.status).toBe('ok')
    expect(cases.map((tc) => tc.name)).toEqual(['wide ✓'])
  })

  it('reads the encoding the XML declaration names', async () => {
    const text = suite('<testcase classname="c" name="test_café"/>').replace('utf-8', 'ISO-8859-1')
    const { cases } = await readWritten('latin1.xml', Buffer.from(text, 'latin1'))
    expect(cases.map((tc) => tc.name)).toEqual(['test_café'])
  })

  it('replaces a byte that is not UTF-8 instead of losing the report', async () => {
    const bytes = Buffer.concat([
      Buffer.from(suite('<testcase classname="c" name="t"><system-out>a').split('</testsuite>')[0] ?? ''),
      Buffer.from([0xff]),
      Buffer.from('b</system-out></testcase></testsuite></testsuites>')
    ])
    const { report, cases } = await readWritten('latin1-byte.xml', bytes)
    expect(report.status).toBe('ok')
    expect(cases[0]?.systemOut).toBe('a\ufffdb')
  })

  it('says an encoding it does not know is not readable as XML', async () => {
    const { report } = await readWritten('ebcdic.xml', '<?xml version="1.0" encoding="x-no-such"?><testsuites/>')
    expect(report).toMatchObject({
      status: 'malformed',
      detail: 'the XML declaration names an encoding this reader does not know: x-no-such'
    })
  })
})

describe('bounds', () => {
  it('cuts message, text, output and names to their limits and says so', async () => {
    const long = (n: number): string => 'x'.repeat(n)
    const body =
      `<testcase classname="c" name="${long(3_000)}"><failure message="${long(5_000)}">${long(20_000)}</failure>` +
      `<system-out>${long(10_000)}</system-out><system-err>${long(9_000)}</system-err></testcase>` +
      '<testcase classname="c" name="short"><failure message="m">t</failure></testcase>'
    const { cases } = await readWritten('long.xml', suite(body))
    const [cut, short] = cases
    expect(cut).toMatchObject({ outcome: 'failure', truncated: true })
    expect([cut?.name.length, cut?.message.length, cut?.text.length, cut?.systemOut.length, cut?.systemErr.length]).toEqual([
      2_000, 2_000, 16_384, 8_192, 8_192
    ])
    expect(short).toMatchObject({ message: 'm', text: 't', truncated: false })
  })

  it('never cuts a character in half', async () => {
    const { cases } = await readWritten('emoji.xml', suite(`<testcase classname="c" name="e"><failure>${'🎉'.repeat(9_000)}</failure></testcase>`))
    const text = cases[0]?.text ?? ''
    expect(text.length).toBe(16_384)
    expect(text).toBe('🎉'.repeat(8_192))
    // No message attribute: the first line, cut to 2,000 units on a character boundary.
    expect(cases[0]?.message).toBe('🎉'.repeat(1_000))
  })

  it('keeps only the start of a huge text node or CDATA section, and reads on', async () => {
    const numbered = (prefix: string, lines: number): string =>
      Array.from({ length: lines }, (_, i) => `${prefix} line ${String(i).padStart(6, '0')} ${'.'.repeat(40)}\n`).join('')
    const out = numbered('out', 40_000) // about 2 MB: several read chunks, drained piecewise
    const err = numbered('err', 40_000)
    const comment = 'c'.repeat(300_000)
    const body =
      `<testcase classname="c" name="loud"><failure message="m">t</failure><system-out>${out}</system-out>` +
      `<system-err><![CDATA[${err}]]></system-err></testcase>` +
      `<testcase classname="c" name="commented"><system-out>start<!--${comment}-->end</system-out></testcase>` +
      '<testcase classname="c" name="after"/>'
    const { report, cases } = await readWritten('huge-node.xml', suite(body))
    expect(report.status).toBe('ok')
    expect(cases.map((tc) => tc.name)).toEqual(['loud', 'commented', 'after'])
    expect(cases[0]?.systemOut).toBe(out.slice(0, 8_192))
    expect(cases[0]?.systemErr).toBe(err.slice(0, 8_192))
    expect(cases[0]?.truncated).toBe(true)
    expect(cases[1]).toMatchObject({ systemOut: 'startend', truncated: false })
  })
})

describe('a large report', () => {
  it('streams 100,000 cases, half of them failing, in document order', async () => {
    const file = path.join(scratch, 'large.xml')
    const traceback = Array.from({ length: 14 }, (_, i) => `    frame_${i} = call(argument_${i})  # tests/test_mod.py:${i + 10}`).join('\n')
    const out = createWriteStream(file)
    const write = async (piece: string): Promise<void> => {
      if (!out.write(piece)) await once(out, 'drain')
    }
    await write('<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest">')
    for (let i = 0; i < 100_000; i++) {
      await write(
        i % 2 === 0
          ? `<testcase classname="tests.test_mod" name="test_${i}" time="0.001"/>`
          : `<testcase classname="tests.test_mod" name="test_${i}" time="0.002"><failure message="value ${i}">def test_${i}():\n${traceback}\nE  assert ${i} == 0</failure></testcase>`
      )
    }
    await write('</testsuite></testsuites>\n')
    out.end()
    await once(out, 'finish')

    let next = 0
    let wrong = 0
    const { files } = await readJUnitReports(['large.xml'], {
      cwd: scratch,
      onCase: (tc) => {
        const failing = next % 2 === 1
        if (
          tc.name !== `test_${next}` ||
          tc.outcome !== (failing ? 'failure' : 'passed') ||
          tc.message !== (failing ? `value ${next}` : '') ||
          (failing && !tc.text.endsWith(`E  assert ${next} == 0`))
        ) {
          wrong++
        }
        next++
      }
    })
    expect(wrong).toBe(0)
    expect(next).toBe(100_000)
    expect(files[0]).toMatchObject({ status: 'ok', tool: 'pytest', counts: counts({ cases: 100_000, passed: 50_000, failed: 50_000 }) })
  }, 60_000)
})

describe('globs', () => {
  it('lists matched files once, sorted, relative to cwd, with the first pattern that matched', async () => {
    const root = path.join(scratch, 'workspace')
    for (const dir of ['reports/sub', 'reports/.hidden', 'reports/dir.xml', 'other']) mkdirSync(path.join(root, dir), { recursive: true })
    const junit = '<testsuites><testsuite name="s"><testcase classname="c" name="t"/></testsuite></testsuites>'
    for (const file of ['reports/b.xml', 'reports/a.xml', 'reports/sub/c.xml', 'reports/.hidden/d.xml', 'other/e.xml']) {
      writeFileSync(path.join(root, file), junit)
    }
    writeFileSync(path.join(root, 'reports/notes.txt'), 'not a report')
    const seen: string[] = []
    const result = await readJUnitReports(
      ['  ', 'reports/**/*.xml', 'other/e.xml', './reports/a.xml', 'missing/*.xml', '!reports/sub/**', 'reports/sub/*.xml'],
      { cwd: root, onCase: (tc) => seen.push(tc.report) }
    )
    expect(result.files.map((file) => [file.path, file.pattern, file.status])).toEqual([
      ['other/e.xml', 'other/e.xml', 'ok'],
      ['reports/.hidden/d.xml', 'reports/**/*.xml', 'ok'],
      ['reports/a.xml', 'reports/**/*.xml', 'ok'],
      ['reports/b.xml', 'reports/**/*.xml', 'ok']
    ])
    // A pattern whose every file is excluded matched nothing.
    expect(result.unmatched).toEqual(['missing/*.xml', 'reports/sub/*.xml'])
    expect(seen).toEqual(['other/e.xml', 'reports/.hidden/d.xml', 'reports/a.xml', 'reports/b.xml'])
  })

  it('reports the files of an absolute pattern as absolute paths, as the user wrote them', async () => {
    const result = await readJUnitReports([path.join(FIXTURES, 'vitest*.xml')], { cwd: FIXTURES, onCase: () => {} })
    expect(result.files.map((file) => file.path)).toEqual([path.join(FIXTURES, 'vitest-unhandled-errors.xml'), path.join(FIXTURES, 'vitest.xml')])
  })

  it('reports a glob with no file as unmatched and reads nothing', async () => {
    const result = await readJUnitReports(['no-such-dir/**/*.xml'], { cwd: FIXTURES, onCase: () => {} })
    expect(result).toEqual({ files: [], unmatched: ['no-such-dir/**/*.xml'], searched: [FIXTURES.replace(/\/$/, '')], fromWorkspace: [] })
  })
})

describe('the workspace', () => {
  /** A workspace with a reports folder, and a secret file next to it (outside). */
  function layout(): { workspace: string; secret: string } {
    const base = mkdtempSync(path.join(scratch, 'ws-'))
    const workspace = path.join(base, 'workspace')
    mkdirSync(path.join(workspace, 'reports'), { recursive: true })
    const secret = path.join(base, 'shadow')
    writeFileSync(secret, 'root:$6$secret-hash:19000:0:99999:7:::\n')
    return { workspace, secret }
  }

  it('refuses a report that is a symlink to a file outside the workspace, naming where it leads, never its content', async () => {
    const { workspace, secret } = layout()
    symlinkSync(secret, path.join(workspace, 'reports', 'junit.xml'))
    const onCase = (): void => {}
    const result = await readJUnitReports(['reports/*.xml'], { cwd: workspace, roots: [workspace], onCase })
    expect(result.files).toEqual([
      {
        pattern: 'reports/*.xml',
        path: 'reports/junit.xml',
        status: 'unreadable',
        detail: `outside the workspace (it is a link to ${secret}): reports are read only from inside ${workspace}; not read`,
        bytes: 0,
        counts: counts({})
      }
    ])
    expect(JSON.stringify(result)).not.toContain('secret-hash')
  })

  it('refuses a report reached through a symlinked directory outside the workspace', async () => {
    const { workspace, secret } = layout()
    symlinkSync(path.dirname(secret), path.join(workspace, 'outside'))
    const result = await readJUnitReports(['outside/shadow'], { cwd: workspace, roots: [workspace], onCase: () => {} })
    expect(result.files[0]).toMatchObject({ status: 'unreadable', detail: expect.stringMatching(/^outside the workspace \(it is a link to .*shadow\)/) })
  })

  it('refuses an absolute pattern outside the workspace', async () => {
    const { workspace, secret } = layout()
    const result = await readJUnitReports([secret], { cwd: workspace, roots: [workspace], onCase: () => {} })
    expect(result.files[0]).toMatchObject({ status: 'unreadable', detail: `outside the workspace: reports are read only from inside ${workspace}; not read` })
  })

  it('checks the file it opened too: a link swapped in after the glob still leads nowhere outside', async () => {
    const { workspace, secret } = layout()
    const link = path.join(workspace, 'reports', 'junit.xml')
    symlinkSync(secret, link) // as if swapped in between the check of the matched path and the open
    const read = await readReportFile(link, 'reports/junit.xml', () => {}, undefined, [workspace])
    expect(read).toEqual({ status: 'unreadable', detail: `outside the workspace (it now leads to ${secret}); not read`, bytes: 0, counts: counts({}) })
  })

  it('reads a symlink that stays inside the workspace', async () => {
    const { workspace } = layout()
    writeFileSync(path.join(workspace, 'real.xml'), suite('<testcase classname="c" name="t"/>'))
    symlinkSync(path.join(workspace, 'real.xml'), path.join(workspace, 'reports', 'junit.xml'))
    const cases: TestCase[] = []
    const result = await readJUnitReports(['reports/junit.xml'], { cwd: workspace, roots: [workspace], onCase: (tc) => cases.push(tc) })
    expect(result.files[0]).toMatchObject({ status: 'ok', path: 'reports/junit.xml' })
    expect(cases.map((tc) => tc.name)).toEqual(['t'])
  })

  it('takes GITHUB_WORKSPACE as the workspace when set, else the current and the working directory', () => {
    expect(workspaceRoots('/w/app', { GITHUB_WORKSPACE: '/w' })).toEqual(['/w'])
    expect(workspaceRoots('/w/app', {})).toEqual([process.cwd(), '/w/app'])
  })
})

describe('globs relative to the workspace', () => {
  function layout(): { workspace: string; service: string } {
    const workspace = mkdtempSync(path.join(tmpdir(), 'cfg-junit-base-'))
    const service = path.join(workspace, 'service')
    mkdirSync(path.join(service, 'reports'), { recursive: true })
    return { workspace, service }
  }

  it('tries the workspace when a glob matches nothing in working-directory, and says so', async () => {
    const { workspace, service } = layout()
    writeFileSync(path.join(service, 'reports', 'junit.xml'), suite('<testcase classname="c" name="t"/>'))
    const cases: TestCase[] = []
    const result = await readJUnitReports(['service/reports/*.xml'], {
      cwd: service,
      fallbackCwd: workspace,
      roots: [workspace],
      onCase: (tc) => cases.push(tc)
    })
    expect(result.files[0]).toMatchObject({ status: 'ok', path: 'service/reports/junit.xml', pattern: 'service/reports/*.xml' })
    expect(cases.map((tc) => tc.name)).toEqual(['t'])
    expect(result.unmatched).toEqual([])
    expect(result.fromWorkspace).toEqual(['service/reports/*.xml'])
    expect(result.searched).toEqual([service, workspace])
  })

  it('prefers working-directory: a glob that matches there is not looked for in the workspace', async () => {
    const { workspace, service } = layout()
    writeFileSync(path.join(service, 'reports', 'junit.xml'), suite('<testcase classname="c" name="in-service"/>'))
    mkdirSync(path.join(workspace, 'reports'))
    writeFileSync(path.join(workspace, 'reports', 'junit.xml'), suite('<testcase classname="c" name="in-workspace"/>'))
    const cases: TestCase[] = []
    const result = await readJUnitReports(['reports/junit.xml'], { cwd: service, fallbackCwd: workspace, roots: [workspace], onCase: (tc) => cases.push(tc) })
    expect(cases.map((tc) => tc.name)).toEqual(['in-service'])
    expect(result.fromWorkspace).toEqual([])
  })

  it('names both places when a glob matches nothing anywhere', async () => {
    const { workspace, service } = layout()
    const result = await readJUnitReports(['reports/*.xml'], { cwd: service, fallbackCwd: workspace, roots: [workspace], onCase: () => {} })
    expect(result.unmatched).toEqual(['reports/*.xml'])
    expect(result.searched).toEqual([service, workspace])
    expect(result.files).toEqual([])
  })

  it('looks nowhere else without a fallback, or when the fallback is working-directory itself', async () => {
    const { workspace, service } = layout()
    writeFileSync(path.join(service, 'reports', 'junit.xml'), suite('<testcase classname="c" name="t"/>'))
    const without = await readJUnitReports(['service/reports/*.xml'], { cwd: service, roots: [workspace], onCase: () => {} })
    expect(without.unmatched).toEqual(['service/reports/*.xml'])
    expect(without.searched).toEqual([service])
    const same = await readJUnitReports(['nothing.xml'], { cwd: service, fallbackCwd: `${service}/`, roots: [workspace], onCase: () => {} })
    expect(same.searched).toEqual([service])
  })
})
