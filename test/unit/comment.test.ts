import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  ANNOTATION_MESSAGE_MAX_BYTES,
  CHECK_RUN_MAX_ANNOTATIONS,
  CHECK_RUN_OUTPUT_MAX_CHARACTERS,
  COMMENT_MAX_CHARACTERS,
  commentMarker,
  renderCheckRunOutput,
  renderNotice,
  renderPrComment,
  TITLE_MAX_CHARACTERS
} from '../../src/report/comment.js'
import { utf8ByteLength } from '../../src/report/escape.js'
import { renderSummary } from '../../src/report/markdown.js'
import type { RunReport } from '../../src/report/model.js'
import { failingTest, loadReportFixture, manyGates, REPORT_FIXTURES, reportWith, reportWithTests, type ReportFixture } from './report-fixtures.js'

const MARKER = 'celery-foundation-gates:app.celery_app@.'
const RUN_URL = 'https://github.com/acme/shop/actions/runs/4242/attempts/2'
const MATRIX_HEADER = '| Gate | Description | Status | Evidence |'
const MB = 1024 * 1024

/** Every way GitHub might count: UTF-16 units (JavaScript's length) and code points. */
function characterCounts(text: string): number[] {
  return [text.length, [...text].length]
}

/** The lines of the gate matrix: header, delimiter, then one per gate. */
function matrixLines(markdown: string): string[] {
  const lines = markdown.split('\n')
  const start = lines.indexOf(MATRIX_HEADER)
  if (start === -1) return []
  const end = lines.findIndex((line, index) => index > start && !line.startsWith('|'))
  return lines.slice(start, end === -1 ? undefined : end)
}

/** Cells of a GFM table row: `\` escapes the next character, an unescaped `|` separates. */
function cellCount(row: string): number {
  const inner = row.slice(1, -1).replace(/\\./g, '')
  return inner.split('|').length
}

/**
 * A report at GitHub's limits and far beyond: 100,000 failing tests, 5,000 gates with tall,
 * long evidence and big details, and a megabyte-long interruption message.
 */
function hugeReport(): RunReport {
  const taxonomy = Array.from({ length: 100_000 }, (_unused, index) => failingTest(index, 'foundation:runtime'))
  const details = 'traceback line\n'.repeat(20_000)
  const evidence = `${'évidence ✅ '.repeat(40)}\n`.repeat(20)
  return {
    ...reportWithTests(taxonomy),
    verdict: 'fail',
    interrupted: { kind: 'crash', message: 'm'.repeat(MB) },
    gates: manyGates(5_000, evidence).map((gate) => ({ ...gate, details }))
  }
}

describe('commentMarker', () => {
  it('is a hidden HTML comment that holds the marker', () => {
    expect(commentMarker(MARKER)).toBe(`<!-- ${MARKER} -->`)
  })

  it('cannot be ended early by the marker, nor break the line', () => {
    const tag = commentMarker('a --> b\n<!-- c')
    expect(tag).toBe('<!-- a --%3E b%0A%3C!-- c -->')
    expect(tag.indexOf('-->')).toBe(tag.length - 3)
  })

  it('gives different markers different tags, encoded or not', () => {
    expect(commentMarker('a>')).not.toBe(commentMarker('a%3E'))
  })

  it('refuses an empty or oversized marker', () => {
    expect(() => commentMarker('  ')).toThrow(RangeError)
    expect(() => commentMarker('x'.repeat(1_001))).toThrow(RangeError)
  })
})

describe('renderPrComment', () => {
  it('starts with the marker, then the heading and the verdict', () => {
    const lines = renderPrComment(loadReportFixture('runtime-wrong-password'), { marker: MARKER }).split('\n')
    expect(lines[0]).toBe(`<!-- ${MARKER} -->`)
    expect(lines[1]).toBe('## Celery foundation gates')
    expect(lines[3]).toMatch(/^\*\*Verdict: ❌ FAIL\*\* — 1 of 10 foundation gates failed: `runtime`/)
  })

  it.each(REPORT_FIXTURES)('shows the same gate matrix as the job summary (%s)', (name) => {
    const report = loadReportFixture(name)
    const comment = renderPrComment(report, { marker: MARKER })
    expect(matrixLines(comment)).toEqual(matrixLines(renderSummary(report)))
    expect(matrixLines(comment)).toHaveLength(report.gates.length + 2)
  })

  it('leaves the details to the job summary and links to the run', () => {
    const comment = renderPrComment(loadReportFixture('runtime-wrong-password'), { marker: MARKER, runUrl: RUN_URL })
    expect(comment).not.toContain('<details')
    expect(comment).not.toContain('### Failure taxonomy')
    expect(comment.trimEnd().split('\n').at(-1)).toBe(
      "_Run `cfg-7d1c0e9a`, finished 2026-11-26T02:12:20.510Z. Each gate's details, the failure taxonomy, the worker log and the timings are in [the run's job summary](<https://github.com/acme/shop/actions/runs/4242/attempts/2>). This comment is updated on every run._"
    )
  })

  it('names the job summary without a link when the run URL is missing or not a web address', () => {
    for (const runUrl of [undefined, 'javascript:alert(1)', 'not a url']) {
      const comment = renderPrComment(loadReportFixture('all-pass'), runUrl === undefined ? { marker: MARKER } : { marker: MARKER, runUrl })
      expect(comment).toContain("are in the run's job summary.")
      expect(comment).not.toContain('](')
    }
  })

  it('keeps a run URL from breaking out of its link', () => {
    const comment = renderPrComment(loadReportFixture('all-pass'), { marker: MARKER, runUrl: 'https://github.com/a b/<x>)/runs/1' })
    expect(comment).toContain('](<https://github.com/a%20b/%3Cx%3E)/runs/1>)')
  })

  it('puts a notice between the marker and the heading when the gates did not prove the pull request', () => {
    const head = '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c'
    const base = '0123456789abcdef0123456789abcdef01234567'
    const body = renderPrComment(loadReportFixture('all-pass'), {
      marker: MARKER,
      notice: `these gates ran on ${base}, not on the pull request's head ${head}`
    })
    const [marker, notice, blank, heading] = body.split('\n')
    expect(marker).toBe(`<!-- ${MARKER} -->`)
    // Commit names as code: GitHub links neither, and no reader mistakes them for the proof of a commit.
    expect(notice).toBe(`> ⚠️ **These gates ran on <code>${base}</code>, not on the pull request&#39;s head <code>${head}</code>.**`)
    expect([blank, heading]).toEqual(['', '## Celery foundation gates'])
  })

  it('escapes a notice as outside text: one line, no markup, no mention, bounded', () => {
    const notice = renderNotice(`which commit is not known (/tmp/@evil/<b>x</b>\n#5 ${'x'.repeat(5_000)})`)
    expect(notice.split('\n')).toHaveLength(1)
    expect(notice).not.toMatch(/<b>|@evil|#5/)
    expect(notice.length).toBeLessThan(1_200)
  })

  it('neutralises references in outside text: mentions, issues, commits', () => {
    const report = reportWith({
      verdict: 'fail',
      gateChanges: { runtime: { status: 'fail', evidence: 'broke in #12 by @mallory (see acme/other#3, GH-4, commit deadbeefcafe1234)' } }
    })
    const runtimeRow = renderPrComment(report, { marker: MARKER })
      .split('\n')
      .find((line) => line.startsWith('| **Runtime**'))
    expect(runtimeRow).toContain('broke in #&#8203;12 by @&#8203;mallory (see acme/other#&#8203;3, GH-&#8203;4, commit <code>deadbeefcafe1234</code>)')
  })

  it("stays within GitHub's comment limit for a huge report, keeping the marker and whole rows", () => {
    const comment = renderPrComment(hugeReport(), { marker: MARKER, runUrl: RUN_URL })
    for (const count of characterCounts(comment)) expect(count).toBeLessThanOrEqual(COMMENT_MAX_CHARACTERS)
    // Well below, not just under.
    expect(utf8ByteLength(comment)).toBeLessThanOrEqual(60_000)
    expect(comment.split('\n')[0]).toBe(`<!-- ${MARKER} -->`)
    const rows = matrixLines(comment)
    expect(rows.length).toBeGreaterThan(2)
    for (const row of rows) {
      expect(row).toMatch(/^\| .* \|$/)
      expect(cellCount(row)).toBe(4)
    }
    expect(comment).toMatch(
      /\n_Matrix trimmed to fit GitHub's limit for a pull-request comment: evidence and messages cut to [\d,]+ bytes each; only the first [\d,]+ of 5,000 gates shown\._\n/
    )
    expect(comment.trimEnd().split('\n').at(-1)).toMatch(/^_Run `cfg-.*This comment is updated on every run\._$/)
  })

  it('is not trimmed for the real runs', () => {
    for (const name of REPORT_FIXTURES) expect(renderPrComment(loadReportFixture(name), { marker: MARKER })).not.toContain('trimmed')
  })
})

describe('renderCheckRunOutput', () => {
  it('titles the check run with the verdict, on one line', () => {
    expect(renderCheckRunOutput(loadReportFixture('runtime-wrong-password')).title).toBe(
      'FAIL — 1 of 10 foundation gates failed: runtime; 7 skipped: db-access, rls-role, queues, tasks, logs, dlq, tenant-isolation'
    )
    expect(renderCheckRunOutput(loadReportFixture('all-pass')).title).toBe('PASS — all 10 foundation gates passed')
    expect(renderCheckRunOutput(loadReportFixture('cancelled')).title).toMatch(/^FAIL \(cancelled by the runner\) — /)
  })

  it('bounds the title however long the gate ids are', () => {
    const report = reportWith({ verdict: 'fail', gateChanges: { runtime: { id: `runtime\n${'x'.repeat(MB)}`, status: 'fail' } } })
    const { title } = renderCheckRunOutput(report)
    expect([...title].length).toBeLessThanOrEqual(TITLE_MAX_CHARACTERS)
    expect(title).not.toContain('\n')
    expect(title.endsWith('…')).toBe(true)
  })

  it('puts the matrix in the summary and the rest of the job summary in the text', () => {
    const report = loadReportFixture('runtime-wrong-password')
    const { summary, text } = renderCheckRunOutput(report)
    expect(summary).toBe(renderSummary(report, { sections: 'matrix' }))
    expect(text).toBe(renderSummary(report, { sections: 'details' }))
    expect(text).toContain('❌ FAIL Runtime (<code>runtime</code>): details')
  })

  it.each(REPORT_FIXTURES)('splits the job summary in two without losing a line (%s)', (name) => {
    const report = loadReportFixture(name)
    const { summary, text } = renderCheckRunOutput(report)
    expect(`${summary}\n${text}`).toBe(renderSummary(report))
  })

  it('annotates each failed gate on the workflow file', () => {
    const report = loadReportFixture('runtime-wrong-password')
    const runtime = report.gates.find((gate) => gate.id === 'runtime')!
    const { annotations } = renderCheckRunOutput(report, { annotationPath: '.github/workflows/ci.yml' })
    expect(annotations).toEqual([
      {
        path: '.github/workflows/ci.yml',
        start_line: 1,
        end_line: 1,
        annotation_level: 'failure',
        title: 'runtime failed',
        message: runtime.evidence
      }
    ])
    expect(renderCheckRunOutput(loadReportFixture('all-pass')).annotations).toEqual([])
  })

  it('points annotations at .github when the workflow file is not known', () => {
    const [annotation] = renderCheckRunOutput(loadReportFixture('runtime-wrong-password')).annotations
    expect(annotation?.path).toBe('.github')
  })

  it('cuts an annotation message to 64 KB and says so', () => {
    const report = reportWith({ verdict: 'fail', gateChanges: { runtime: { status: 'fail', evidence: 'é'.repeat(MB) } } })
    const [annotation] = renderCheckRunOutput(report).annotations
    expect(utf8ByteLength(annotation!.message)).toBeLessThanOrEqual(ANNOTATION_MESSAGE_MAX_BYTES)
    expect(annotation!.message).toMatch(/^é+\n… \(cut: the evidence has 2,097,152 bytes; the job summary shows more\)$/)
  })

  it('gives a failed gate without evidence a message all the same (GitHub requires one)', () => {
    const report = reportWith({ verdict: 'fail', gateChanges: { runtime: { status: 'fail', evidence: '  \n' } } })
    expect(renderCheckRunOutput(report).annotations[0]?.message).toBe('failed, with no evidence recorded')
  })

  it("stays within GitHub's limits for a huge report", () => {
    const report = hugeReport()
    const failed = report.gates.filter((gate) => gate.status === 'fail').length
    const output = renderCheckRunOutput(report, { annotationPath: '.github/workflows/ci.yml' })
    for (const part of [output.summary, output.text ?? '']) {
      for (const count of characterCounts(part)) expect(count).toBeLessThanOrEqual(CHECK_RUN_OUTPUT_MAX_CHARACTERS)
    }
    expect(output.annotations).toHaveLength(CHECK_RUN_MAX_ANNOTATIONS)
    expect(output.annotations.map((annotation) => annotation.title)).toEqual(
      report.gates
        .filter((gate) => gate.status === 'fail')
        .slice(0, CHECK_RUN_MAX_ANNOTATIONS)
        .map((gate) => `${gate.id} failed`)
    )
    expect(output.summary).toMatch(/_Matrix trimmed to fit GitHub's limit for a check run's summary: .*only the first [\d,]+ of 5,000 gates shown\._\n$/)
    expect(output.text).toMatch(
      new RegExp(
        `^_Annotations: the first 50 failed gates \\(GitHub takes 50 per request\\); ${failed - 50} more failed, and the matrix and the JSON report list them\\._\n\n`
      )
    )
    expect(output.text).toMatch(/\n_Details trimmed to fit GitHub's limit for a check run's text: details of `gate-0`, [^\n]* omitted[^\n]*\._\n$/)
  })
})

describe('pull-request feedback: golden files', () => {
  // UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/comment.test.ts rewrites them; review the diff before committing.
  const GOLDEN_DIR = new URL('../golden/', import.meta.url)
  const updating = process.env['UPDATE_GOLDEN'] === '1'
  const GOLDEN_FIXTURES: readonly ReportFixture[] = ['all-pass', 'runtime-wrong-password', 'cancelled']

  function expectGolden(file: string, actual: string): void {
    const golden = new URL(file, GOLDEN_DIR)
    if (updating) {
      mkdirSync(GOLDEN_DIR, { recursive: true })
      writeFileSync(golden, actual)
    }
    expect(existsSync(golden), `missing ${golden.pathname}: run with UPDATE_GOLDEN=1`).toBe(true)
    expect(actual).toBe(readFileSync(golden, 'utf8'))
  }

  it.each(GOLDEN_FIXTURES)('comment-%s.md', (name) => {
    expectGolden(`comment-${name}.md`, renderPrComment(loadReportFixture(name), { marker: MARKER, runUrl: RUN_URL }))
  })

  it.each(GOLDEN_FIXTURES)('check-run-%s.json', (name) => {
    const output = renderCheckRunOutput(loadReportFixture(name), { annotationPath: '.github/workflows/celery-foundation.yml' })
    expectGolden(`check-run-${name}.json`, `${JSON.stringify(output, null, 2)}\n`)
  })
})
