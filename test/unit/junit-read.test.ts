// The JUnit reader on real reports: pytest's, vitest's and jest-junit's, hostile content, entities.
import { statSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { FIXTURES, TEARDOWN_MESSAGE, read, readWritten, only, twice, counts, suite } from './junit-read-checks.js'

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
