// The job summary against the committed golden files (UPDATE_GOLDEN=1 rewrites them).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { renderSummary } from '../../src/report/markdown.js'
import { loadReportFixture, REPORT_FIXTURES } from './report-fixtures.js'

describe('renderSummary: golden files', () => {
  // UPDATE_GOLDEN=1 npx vitest run --project unit rewrites them; review the diff before committing.
  const GOLDEN_DIR = new URL('../golden/', import.meta.url)
  const updating = process.env['UPDATE_GOLDEN'] === '1'

  it.each(REPORT_FIXTURES)('%s', (name) => {
    const actual = renderSummary(loadReportFixture(name))
    const golden = new URL(`summary-${name}.md`, GOLDEN_DIR)
    if (updating) {
      mkdirSync(GOLDEN_DIR, { recursive: true })
      writeFileSync(golden, actual)
    }
    expect(existsSync(golden), `missing ${golden.pathname}: run with UPDATE_GOLDEN=1`).toBe(true)
    expect(actual).toBe(readFileSync(golden, 'utf8'))
  })
})
