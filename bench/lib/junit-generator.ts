// Writes pytest-style JUnit reports of any size for the benchmarks: passing cases, and failing
// ones in the shapes pytest writes for each category the default rules know (plus unknowns).
import { createWriteStream } from 'node:fs'

/** Failure shapes pytest writes, one per category the default rules know, plus unknowns. */
const FAILURES = [
  (i: number) =>
    `<error message='failed on setup with "RuntimeError: Celery worker not ready: data-plane task execution failed"'>${trace(i, 'RuntimeError: Celery worker not ready: data-plane task execution failed')}</error>`,
  (i: number) =>
    `<failure message="AssertionError: assert None is not None">${trace(i, 'assert None is not None', '    def test_eager(eager_app):\n        r = ping.delay()')}</failure>`,
  (i: number) =>
    `<failure message="AssertionError: assert 'app.tasks.housekeeping.ping' in set()">${trace(i, "assert 'app.tasks.housekeeping.ping' in {r.task_name for r in caplog.records}")}</failure>`,
  (i: number) =>
    `<failure message="AssertionError: Job identity row must exist">${trace(i, "RuntimeWarning: coroutine '_upsert_job_identity' was never awaited")}</failure>`,
  (i: number) => `<failure message="assert 3 == 4">${trace(i, 'assert 3 == 4')}</failure>`
]

function trace(i: number, error: string, source = '    def test_case(app_db):\n        value = compute()'): string {
  // About 1 KB, like a short pytest longrepr.
  const frames = Array.from({ length: 6 }, (_v, k) => `\ntests/test_module_${i % 97}.py:${20 + k}: in helper_${k}\n    return call_${k}(argument_${k})`).join(
    ''
  )
  return escapeXml(`${source}\n>       assert ...${frames}\nE       ${error}\n\ntests/test_module_${i % 97}.py:${40 + (i % 50)}: ${error.split(':')[0]}`)
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

export async function writeReport(file: string, cases: number, failingShare: number): Promise<void> {
  const out = createWriteStream(file)
  const write = (s: string) => new Promise<void>((resolve) => (out.write(s) ? resolve() : out.once('drain', () => resolve())))
  await write(`<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="0" skipped="0" tests="${cases}" time="1.0">\n`)
  const failEvery = Math.max(1, Math.round(1 / failingShare))
  for (let i = 0; i < cases; i++) {
    const head = `<testcase classname="tests.test_module_${i % 97}" name="test_case_${i}" time="0.010">`
    const body = i % failEvery === 0 ? (FAILURES[i % FAILURES.length] as (i: number) => string)(i) : ''
    await write(`${head}${body}</testcase>\n`)
  }
  await write('</testsuite></testsuites>\n')
  await new Promise<void>((resolve) => out.end(() => resolve()))
}
