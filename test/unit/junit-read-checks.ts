// What the JUnit reader's tests share: the fixtures, reading one file, a scratch directory per
// test file, and small builders of expected values.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect } from 'vitest'
import type { ReportCounts, ReportFile, TestCase } from '../../src/junit/model.js'
import { readJUnitReports, type ReadOptions } from '../../src/junit/read.js'

export const FIXTURES = fileURLToPath(new URL('../fixtures/junit/', import.meta.url))
export const TEARDOWN_MESSAGE = 'failed on teardown with "RuntimeError: could not drop schema"'

// One scratch directory per test file (vitest evaluates this module again for each file).
let scratchPath = ''
beforeAll(() => {
  scratchPath = mkdtempSync(path.join(tmpdir(), 'junit-read-'))
})
afterAll(() => {
  rmSync(scratchPath, { recursive: true, force: true })
})

/** The test file's scratch directory (made before its tests run, removed after). */
export const scratchDir = (): string => scratchPath

/** Reads one file (a fixture by default) and returns its ReportFile with the cases it delivered. */
export async function read(file: string, options: Partial<ReadOptions> = {}): Promise<{ report: ReportFile; cases: TestCase[] }> {
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
export async function readWritten(name: string, content: string | Buffer, options: Partial<ReadOptions> = {}) {
  writeFileSync(path.join(scratchPath, name), content)
  return read(name, { cwd: scratchPath, ...options })
}

export function only(cases: TestCase[], name: string): TestCase {
  const found = cases.filter((tc) => tc.name === name)
  expect(found, name).toHaveLength(1)
  return found[0] as TestCase
}

/** The two <testcase> elements pytest writes for a test whose call failed and whose teardown errored. */
export function twice(cases: TestCase[], name: string): [TestCase, TestCase] {
  const found = cases.filter((tc) => tc.name === name)
  expect(found, name).toHaveLength(2)
  return found as [TestCase, TestCase]
}

export function counts(partial: Partial<ReportCounts>): ReportCounts {
  return { cases: 0, passed: 0, failed: 0, errored: 0, skipped: 0, xfailed: 0, xpassed: 0, ...partial }
}

export const suite = (body: string): string =>
  `<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="pytest tests"><testsuite name="pytest">${body}</testsuite></testsuites>\n`
