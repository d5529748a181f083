// The job summary: outside text escaped, and the 1 MiB byte budget.
import { describe, expect, it } from 'vitest'
import { GATE_IDS } from '../../src/constants.js'
import { utf8ByteLength } from '../../src/report/escape.js'
import { DEFAULT_SUMMARY_BUDGET_BYTES, EVIDENCE_CELL_LINE_CHARS, inlineMarkdown, renderSummary } from '../../src/report/markdown.js'
import type { RunReport } from '../../src/report/model.js'
import type { Category } from '../../src/taxonomy/model.js'
import { failingTest, loadReportFixture, manyGates, reportWith, reportWithTests } from './report-fixtures.js'
import { TRIM_NOTICE, matrixRows, matrixRowOf, splitCodeSpans, lastLine, verdictLine, detailsSection } from './markdown-checks.js'

describe('renderSummary: escaping outside text', () => {
  const SCRIPT = '<script>alert(1)</script>'

  it('keeps a pipe in evidence from adding a column', () => {
    const report = reportWith({ gateChanges: { runtime: { evidence: 'a | b || c \\| d' } } })
    const markdown = renderSummary(report)
    expect(matrixRows(markdown).map((cells) => cells.length)).toEqual(Array(GATE_IDS.length).fill(4))
    expect(matrixRowOf(markdown, 'runtime')?.[3]).toBe('a \\| b \\|\\| c \\\\\\| d')
  })

  it('shows <script> only escaped, wherever outside text goes', () => {
    const report = reportWith({
      interrupted: { kind: 'crash', message: SCRIPT },
      gateChanges: {
        import: { title: SCRIPT, description: SCRIPT, evidence: SCRIPT, details: SCRIPT },
        runtime: { id: SCRIPT }
      },
      settings: { [SCRIPT]: SCRIPT },
      runId: SCRIPT,
      worker: { ...loadReportFixture('all-pass').worker!, logTail: [SCRIPT], nodeName: SCRIPT, logFile: SCRIPT }
    })
    const markdown = renderSummary(report)
    expect(markdown).not.toMatch(/<\/?script/i)
    expect(markdown.match(/&lt;script&gt;/g)?.length).toBeGreaterThanOrEqual(11)
  })

  it('puts tracebacks in <pre> with HTML escaped and markdown left alone', () => {
    const traceback = [
      'Traceback (most recent call last):',
      '  File "/srv/app/celery_app.py", line 14, in <module>',
      '    app = Celery(**settings)  # __init__ | `x` [y](z) @octocat',
      "ModuleNotFoundError: No module named 'billing'"
    ].join('\n')
    const report = reportWith({ verdict: 'fail', gateChanges: { import: { status: 'fail', details: traceback } } })
    const details = detailsSection(renderSummary(report), 'Import') ?? ''
    expect(details.startsWith('<details open>')).toBe(true)
    expect(details).toContain(
      [
        '<pre>',
        'Traceback (most recent call last):',
        '  File &quot;/srv/app/celery_app.py&quot;, line 14, in &lt;module&gt;',
        '    app = Celery(**settings)  # __init__ | `x` [y](z) @octocat',
        'ModuleNotFoundError: No module named &#39;billing&#39;',
        '</pre>'
      ].join('\n')
    )
    expect(details.match(/<pre>/g)).toHaveLength(1)
  })

  it('opens the real import failure with its traceback', () => {
    const details = detailsSection(renderSummary(loadReportFixture('import-error')), 'Import') ?? ''
    expect(details.startsWith('<details open>')).toBe(true)
    expect(details).toMatch(/<pre>\nTraceback \(most recent call last\):\n/)
    expect(details).toContain('ModuleNotFoundError: No module named &#39;tenant_billing_sdk&#39;\n</pre>')
  })

  it('cannot be broken out of by a log that closes the tags', () => {
    const hostile = ['</pre>', '</details>', '```', '<details><summary>fake</summary>', '| x | y |']
    const report = reportWith({
      worker: { ...loadReportFixture('all-pass').worker!, logTail: hostile },
      // Only these two <pre> blocks: the log and the import details.
      gateChanges: { import: { details: hostile.join('\n') }, 'db-access': { details: undefined }, 'rls-role': { details: undefined } }
    })
    const markdown = renderSummary(report)
    expect(markdown.match(/<pre>/g)).toHaveLength(2)
    expect(markdown.match(/<\/pre>/g)).toHaveLength(2)
    expect(markdown.match(/<details/g)?.length).toBe(markdown.match(/<\/details>/g)?.length)
    expect(markdown).not.toContain('<summary>fake')
  })

  it('keeps a gate title with blank lines inside its <summary> line', () => {
    const report = reportWith({ gateChanges: { import: { title: 'Import\n\nsplit', details: 'tb' } } })
    expect(renderSummary(report)).toContain('<summary>✅ PASS Import split (<code>import</code>): details</summary>')
  })

  it('keeps code spans in evidence safe', () => {
    const report = reportWith({
      gateChanges: { runtime: { evidence: 'a `<b>|x` b `ok` @octocat `unclosed | `@team` ``' } }
    })
    const markdown = renderSummary(report)
    expect(matrixRows(markdown).map((cells) => cells.length)).toEqual(Array(GATE_IDS.length).fill(4))
    expect(matrixRowOf(markdown, 'runtime')?.[3]).toBe('a <code>&lt;b&gt;\\|x</code> b `ok` @&#8203;octocat <code>unclosed \\|</code>@&#8203;team\\` \\`\\`')
  })

  it('never lets random hostile evidence with code spans out of its cell', () => {
    const alphabet = [...'ab |\\`*_[]()!<>&"\'#~$@:\n\t\r', '``', '\u001b[31m', '\u0000', '\u202e', 'é', '😀']
    let seed = 1
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
    for (let round = 0; round < 2_000; round++) {
      const text = Array.from({ length: 40 }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')
      const cell = inlineMarkdown(text)
      expect(cell).not.toMatch(/[\n\r\u0000-\u0008\u000b-\u001f\u007f\u202e]/)
      expect(cell.replace(/<br>|<\/?code>/g, '')).not.toMatch(/[<>]/)
      // Outside code spans, every pipe, backtick, bracket and emphasis mark is escaped; inside
      // one, there is no pipe at all (a pipe ends a table cell even there).
      const { outside, spans } = splitCodeSpans(cell)
      for (const piece of outside) {
        for (const match of piece.matchAll(/(\\*)[|`[\]*_]/g)) expect((match[1] ?? '').length % 2).toBe(1)
        expect(piece).not.toMatch(/(?<![\w@])@[A-Za-z0-9]/)
      }
      for (const span of spans) {
        expect(span).toMatch(/^`[!-~](?:[ -~]*[!-~])?`$/)
        expect(span).not.toMatch(/[|<>&]/)
      }
    }
  })

  it('does not let evidence mention people or make links', () => {
    const report = reportWith({ gateChanges: { runtime: { evidence: 'ping @octocat [click](https://evil.example) ![x](y)' } } })
    expect(matrixRowOf(renderSummary(report), 'runtime')?.[3]).toBe('ping @&#8203;octocat \\[click\\](https://evil.example) !\\[x\\](y)')
  })
})

describe('renderSummary: byte budget', () => {
  const MB = 1_000_000

  function expectTrimmed(markdown: string, budget: number): string {
    expect(utf8ByteLength(markdown)).toBeLessThanOrEqual(budget)
    const notice = lastLine(markdown)
    expect(notice).toMatch(TRIM_NOTICE)
    return notice
  }

  it('defaults to 1,000,000 bytes', () => {
    expect(DEFAULT_SUMMARY_BUDGET_BYTES).toBe(MB)
  })

  it('cuts a 1 MB single-line message to fit, after dropping the log, details and run', () => {
    const report = reportWith({ verdict: 'fail', interrupted: { kind: 'crash', message: 'x'.repeat(MB) } })
    const markdown = renderSummary(report)
    const notice = expectTrimmed(markdown, MB)
    expect(notice).toMatch(/^_Summary trimmed to fit GitHub's 1 MiB limit: /)
    expect(notice).toContain('worker log omitted (full log: `/home/runner/work/_temp/celery-foundation-gates/cfg-7d1c0e9a/worker.log`)')
    expect(notice).toContain('details of `db-access`, `rls-role` omitted')
    expect(notice).toContain('run section omitted')
    expect(notice).toMatch(/evidence and messages cut to [\d,]+ bytes each\._$/)
    expect(markdown).not.toContain('<summary>Worker log')
    expect(markdown).not.toContain(': details</summary>')
    expect(markdown).not.toContain('<summary>Run')
    expect(markdown).toMatch(/\*\*Run interrupted: the action crashed\.\*\* x{900000,}…\n/)
    // The evidence cells, all far shorter than the cut, are whole.
    const rows = matrixRows(markdown)
    expect(rows).toHaveLength(GATE_IDS.length)
    const untrimmed = renderSummary(loadReportFixture('all-pass'))
    for (const id of GATE_IDS) {
      expect(matrixRowOf(untrimmed, id)?.[3]).toBeDefined()
      expect(matrixRowOf(markdown, id)?.[3]).toBe(matrixRowOf(untrimmed, id)?.[3])
    }
    expect(utf8ByteLength(markdown)).toBeGreaterThan(MB - 2_000)
  }, 30_000)

  it('keeps a 1 MB evidence out of the matrix and drops its full copy first', () => {
    const report = reportWith({ gateChanges: { runtime: { evidence: 'x'.repeat(MB) } } })
    const markdown = renderSummary(report)
    const notice = expectTrimmed(markdown, MB)
    expect(notice).toMatch(/: details of `runtime` omitted\._$/)
    expect(matrixRowOf(markdown, 'runtime')?.[3]).toBe(`${'x'.repeat(EVIDENCE_CELL_LINE_CHARS - 1)}…`)
    expect(detailsSection(markdown, 'Worker log')).toBeDefined()
    expect(detailsSection(markdown, 'DB Accessibility')).toBeDefined()
    expect(detailsSection(markdown, 'Run')).toBeDefined()
  }, 30_000)

  it('shortens a 100,000-line worker log and keeps everything else', () => {
    const logTail = Array.from({ length: 100_000 }, (_unused, index) => `[2025-12-18 14:02:11,498: INFO/MainProcess] line ${index}`)
    const report = reportWith({
      worker: { ...loadReportFixture('all-pass').worker!, logTail },
      gateChanges: { import: { details: 'Traceback: kept' } }
    })
    const markdown = renderSummary(report)
    const notice = expectTrimmed(markdown, MB)
    const shown = Number(/worker log shortened to ([\d,]+) of 100,000 lines\._$/.exec(notice)?.[1]?.replace(/,/g, ''))
    expect(shown).toBeGreaterThan(10_000)
    expect(notice).not.toContain('omitted')
    expect(markdown).toContain(`<summary>Worker log (last ${shown.toLocaleString('en-US')} lines)</summary>`)
    expect(markdown).toContain('line 99999\n</pre>')
    expect(markdown).not.toContain('line 0\n')
    expect(detailsSection(markdown, 'Import')).toContain('Traceback: kept')
    expect(detailsSection(markdown, 'Run')).toBeDefined()
  }, 30_000)

  it('drops the largest details first and gives the log back the room', () => {
    const report = reportWith({
      gateChanges: { import: { details: 'i'.repeat(600_000) }, runtime: { details: 'r'.repeat(600_000) }, ci: { details: 'small' } }
    })
    const markdown = renderSummary(report)
    const notice = expectTrimmed(markdown, MB)
    expect(notice).toMatch(/: details of `(import|runtime)` omitted\._$/)
    expect(detailsSection(markdown, 'CI')).toContain('small')
    expect(detailsSection(markdown, 'Worker log')).toContain('Warm shutdown')
  })

  it('shows only the first gates when there are too many for the matrix', () => {
    const report = reportWith({ verdict: 'fail', gates: manyGates(20_000, 'evidence '.repeat(10)) })
    const markdown = renderSummary(report)
    const notice = expectTrimmed(markdown, MB)
    const shown = Number(/only the first ([\d,]+) of 20,000 gates shown/.exec(notice)?.[1]?.replace(/,/g, ''))
    expect(shown).toBeGreaterThan(100)
    expect(shown).toBeLessThan(20_000)
    expect(matrixRows(markdown)).toHaveLength(shown)
    expect(verdictLine(markdown)).toContain('2858 of 20000 foundation gates failed')
  }, 30_000)

  /** Everything too big at once, in escaping-heavy text that grows when escaped. */
  function absurdReport(scale: number): RunReport {
    const huge = 'é|<`*\n'.repeat(scale)
    const categories: Category[] = ['foundation:runtime', 'harness:eager-mode', 'unknown']
    const taxonomy = Array.from({ length: scale / 10 }, (_unused, index) =>
      failingTest(index, categories[index % 3] ?? 'unknown', {
        classname: huge.slice(0, 3_000),
        name: `${index}`,
        evidence: huge.slice(0, 3_000),
        rule: `rule-${index % 40}`,
        remediation: huge.slice(0, 20_000)
      })
    )
    const { tests } = reportWithTests(taxonomy, {
      verdict: huge,
      unmatched: Array(scale / 100).fill(huge.slice(0, 500)),
      components: Array(5).fill({ component: huge.slice(0, 500), kind: 'foundation', status: 'broken', evidence: huge })
    })
    return reportWith({
      tests,
      verdict: 'fail',
      interrupted: { kind: 'crash', message: huge },
      gates: manyGates(scale / 100, huge.slice(0, 5_000)).map((gate) => ({ ...gate, details: huge })),
      worker: { ...loadReportFixture('all-pass').worker!, logTail: Array(scale / 5).fill(huge.slice(0, 200)) },
      settings: Object.fromEntries(Array.from({ length: scale / 50 }, (_unused, index) => [`input-${index}`, huge.slice(0, 300)]))
    })
  }

  it('holds for everything absurd at once', () => {
    const notice = expectTrimmed(renderSummary(absurdReport(250_000)), MB)
    expect(notice).toMatch(
      /details of .* omitted; run section omitted; failure taxonomy table shortened to 0 of 100 rows; remediation by category omitted; evidence and messages cut to [\d,]+ bytes each\._$/
    )
  }, 60_000)

  it.each([0, 1, 50, 200, 1_000, 4_000, 20_000])(
    'holds for a budget of %i bytes',
    (budget) => {
      const markdown = renderSummary(absurdReport(20_000), { budgetBytes: budget })
      expect(utf8ByteLength(markdown)).toBeLessThanOrEqual(budget)
      if (budget >= 1_000) expect(lastLine(markdown)).toMatch(TRIM_NOTICE)
    },
    30_000
  )

  it('names a custom budget in the notice', () => {
    const markdown = renderSummary(loadReportFixture('all-pass'), { budgetBytes: 3_000 })
    expect(lastLine(markdown)).toMatch(/^_Summary trimmed to fit a budget of 3,000 bytes: worker log /)
    expect(utf8ByteLength(markdown)).toBeLessThanOrEqual(3_000)
  })

  it('rejects a budget that is not a byte count', () => {
    expect(() => renderSummary(loadReportFixture('all-pass'), { budgetBytes: Number.NaN })).toThrow(RangeError)
    expect(() => renderSummary(loadReportFixture('all-pass'), { budgetBytes: -1 })).toThrow(RangeError)
  })
})
