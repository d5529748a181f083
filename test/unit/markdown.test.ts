import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { GATE_IDS } from '../../src/constants.js'
import { utf8ByteLength } from '../../src/report/escape.js'
import { DEFAULT_SUMMARY_BUDGET_BYTES, renderSummary } from '../../src/report/markdown.js'
import type { RunReport } from '../../src/report/model.js'
import { loadReportFixture, manyGates, REPORT_FIXTURES, reportWith } from './report-fixtures.js'

const MATRIX_HEADER = '| Gate | Description | Status | Evidence |'
const TRIM_NOTICE = /^_Summary trimmed to fit .+\._$/

/** Splits a GFM table row the way GitHub does: `\` escapes the next character, `|` separates. */
function splitCells(line: string): string[] {
  const cells: string[] = []
  let cell = ''
  for (let index = 1; index < line.length - 1; index++) {
    const character = line[index]
    if (character === '\\') {
      cell += character + (line[index + 1] ?? '')
      index++
    } else if (character === '|') {
      cells.push(cell.trim())
      cell = ''
    } else {
      cell += character
    }
  }
  cells.push(cell.trim())
  return cells
}

function matrixRows(markdown: string): string[][] {
  const lines = markdown.split('\n')
  const start = lines.indexOf(MATRIX_HEADER)
  if (start === -1) return []
  const rows: string[][] = []
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break
    rows.push(splitCells(line))
  }
  return rows
}

function lastLine(markdown: string): string {
  return markdown.trimEnd().split('\n').at(-1) ?? ''
}

function verdictLine(markdown: string): string {
  return markdown.split('\n').find((line) => line.startsWith('**Verdict:')) ?? ''
}

/** The `<details>` block whose summary contains `summaryText`. */
function detailsSection(markdown: string, summaryText: string): string | undefined {
  return markdown
    .split(/(?=<details)/)
    .map((chunk) => chunk.slice(0, chunk.indexOf('</details>') + '</details>'.length))
    .find((block) => (block.match(/<summary>(.*)<\/summary>/)?.[1] ?? '').includes(summaryText))
}

describe('renderSummary: layout', () => {
  const allPass = renderSummary(loadReportFixture('all-pass'))

  it('opens with the h2 heading and the verdict sentence', () => {
    const lines = allPass.split('\n')
    expect(lines[0]).toBe('## Celery foundation gates')
    expect(lines[2]).toBe('**Verdict: ✅ PASS** — all 5 foundation gates passed.')
  })

  it('has one matrix row per gate, in gate order, each with exactly four cells', () => {
    const rows = matrixRows(allPass)
    expect(rows).toHaveLength(6)
    expect(rows.map((cells) => cells.length)).toEqual([4, 4, 4, 4, 4, 4])
    expect(rows.map((cells) => cells[0])).toEqual(GATE_IDS.map((id) => expect.stringContaining(`\`${id}\``)))
    expect(rows[0]?.[0]).toBe('**Import** `import`')
    expect(rows.map((cells) => cells[2])).toEqual(Array(6).fill('✅ PASS'))
  })

  it('joins evidence lines with <br>', () => {
    expect(matrixRows(allPass)[2]?.[3]).toBe(
      'celery-7d1c0e9a@fv-az1785-417 ready.<br>pong in 212 ms (task 3f6c2a1e-8b4d-4f0e-9c57-2d1a6b8e4f90)'
    )
  })

  it('shows every status with its badge', () => {
    const report = reportWith({
      gateChanges: { import: { status: 'fail' }, 'broker-config': { status: 'warn' }, runtime: { status: 'skip' } }
    })
    expect(matrixRows(renderSummary(report)).map((cells) => cells[2])).toEqual([
      '❌ FAIL',
      '⚠️ MIXED',
      '⏭️ SKIPPED',
      '✅ PASS',
      '✅ PASS',
      '✅ PASS'
    ])
  })

  it('puts the worker log, the timings and the run in collapsed sections, in that order', () => {
    const summaries = [...allPass.matchAll(/<summary>(.*)<\/summary>/g)].map((match) => match[1])
    expect(summaries).toEqual(['Worker log (last 24 lines)', 'Timings (total 4,105 ms)', 'Run <code>cfg-7d1c0e9a</code>'])
  })

  it('says where the full worker log is', () => {
    expect(detailsSection(allPass, 'Worker log')).toContain(
      'Full log: `/home/runner/work/_temp/celery-foundation-gates/cfg-7d1c0e9a/worker.log` (2,841 bytes).'
    )
  })

  it('lists only the milestones that happened', () => {
    const timings = detailsSection(renderSummary(loadReportFixture('runtime-wrong-password')), 'Timings') ?? ''
    const labels = [...timings.matchAll(/^\| ([^|]+) \| [\d,]+ \|$/gm)].map((match) => match[1]?.trim())
    expect(labels).toEqual(['App probed', 'Ping published', 'Gates checked', 'Worker stopped', 'Total'])
    expect(timings).toContain('| Total | 33,251 |')
  })

  it('shows run facts and every setting in the run section', () => {
    const report = loadReportFixture('all-pass')
    const run = detailsSection(renderSummary(report), 'Run') ?? ''
    for (const fact of [
      '| Run id | `cfg-7d1c0e9a` |',
      '| Worker node | `celery-7d1c0e9a@fv-az1785-417` |',
      '| Queue | `cfg-7d1c0e9a` |',
      '| Ping task id | `3f6c2a1e-8b4d-4f0e-9c57-2d1a6b8e4f90` |',
      '| Celery | 5.7.0 |',
      '| Python | 3.11.9 |'
    ]) {
      expect(run).toContain(fact)
    }
    const settingRows = run.split('\n').filter((line) => /^\| `[a-z-]+` \| /.test(line))
    expect(settingRows).toHaveLength(Object.keys(report.settings).length)
    expect(run).toContain('| `database-url` | `postgresql://***@127.0.0.1:5432/gatelab` |')
  })

  it('says whether the run removed its trace from the broker tables', () => {
    const report = reportWith({ trace: { removed: false, detail: '1 message left in kombu_message' } })
    expect(detailsSection(renderSummary(report), 'Run')).toContain(
      '| Broker trace | left in place: 1 message left in kombu\\_message |'
    )
  })

  it('adds no trim notice when everything fits', () => {
    for (const name of REPORT_FIXTURES) expect(renderSummary(loadReportFixture(name))).not.toContain('Summary trimmed')
  })
})

describe('renderSummary: verdict sentence', () => {
  it('names the failed foundation gates', () => {
    const report = reportWith({
      verdict: 'fail',
      gateChanges: { runtime: { status: 'fail' }, 'rls-role': { status: 'fail' } }
    })
    expect(verdictLine(renderSummary(report))).toBe(
      '**Verdict: ❌ FAIL** — 2 of 5 foundation gates failed: `runtime`, `rls-role`.'
    )
  })

  it('names the skipped gates next to the failed one', () => {
    expect(verdictLine(renderSummary(loadReportFixture('runtime-wrong-password')))).toBe(
      '**Verdict: ❌ FAIL** — 1 of 5 foundation gates failed: `runtime`; 2 skipped: `db-access`, `rls-role`.'
    )
  })

  it('mentions gates outside the foundation separately', () => {
    const report = reportWith({ gateChanges: { ci: { status: 'warn' } } })
    expect(verdictLine(renderSummary(report))).toBe(
      '**Verdict: ✅ PASS** — all 5 foundation gates passed; outside the foundation, 1 mixed: `ci`.'
    )
  })

  it('names ten gates at most', () => {
    const report = reportWith({ verdict: 'fail', gates: manyGates(140, 'x') })
    expect(verdictLine(renderSummary(report))).toMatch(/failed: `gate-0`, `gate-7`, .*`gate-63` and 10 more\.$/)
  })
})

describe('renderSummary: interrupted runs', () => {
  const cases = [
    ['cancelled', 'cancelled by the runner'],
    ['input-error', 'input error'],
    ['crash', 'the action crashed']
  ] as const

  it.each(cases)('says prominently that the run was interrupted (%s)', (kind, headline) => {
    const report = reportWith({ verdict: 'fail', interrupted: { kind, message: 'TypeError: x is not a function' } })
    const lines = renderSummary(report).split('\n')
    const verdictAt = lines.findIndex((line) => line.startsWith('**Verdict:'))
    expect(lines[verdictAt + 2]).toBe(`> 🛑 **Run interrupted: ${headline}.** TypeError: x is not a function`)
    expect(lines.indexOf(MATRIX_HEADER)).toBeGreaterThan(verdictAt + 2)
  })

  it('keeps a multi-line message inside the one callout line', () => {
    const report = reportWith({ interrupted: { kind: 'crash', message: 'Error: boom\n    at run (main.js:1:1)' } })
    expect(renderSummary(report)).toContain('**Run interrupted: the action crashed.** Error: boom<br>at run (main.js:1:1)\n')
  })
})

describe('renderSummary: escaping outside text', () => {
  const SCRIPT = '<script>alert(1)</script>'

  it('keeps a pipe in evidence from adding a column', () => {
    const report = reportWith({ gateChanges: { runtime: { evidence: 'a | b || c \\| d' } } })
    const rows = matrixRows(renderSummary(report))
    expect(rows.map((cells) => cells.length)).toEqual([4, 4, 4, 4, 4, 4])
    expect(rows[2]?.[3]).toBe('a \\| b \\|\\| c \\\\\\| d')
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
    const markdown = renderSummary(loadReportFixture('import-error'))
    const details = detailsSection(markdown, 'Import') ?? ''
    expect(details.startsWith('<details open>')).toBe(true)
    expect(details).toContain(
      '  File &quot;/home/runner/work/gatelab/gatelab/backend/app/celery_app.py&quot;, line 14, in &lt;module&gt;'
    )
    expect(details).toContain('/python3.11/importlib/__init__.py')
    expect(details.match(/<pre>/g)).toHaveLength(1)
  })

  it('cannot be broken out of by a log that closes the tags', () => {
    const hostile = ['</pre>', '</details>', '```', '<details><summary>fake</summary>', '| x | y |']
    const report = reportWith({
      worker: { ...loadReportFixture('all-pass').worker!, logTail: hostile },
      gateChanges: { import: { details: hostile.join('\n') } }
    })
    const markdown = renderSummary(report)
    expect(markdown.match(/<\/pre>/g)).toHaveLength(2)
    expect(markdown.match(/<details/g)?.length).toBe(markdown.match(/<\/details>/g)?.length)
    expect(markdown).not.toContain('<summary>fake')
  })

  it('keeps a gate title with blank lines inside its <summary> line', () => {
    const report = reportWith({ gateChanges: { import: { title: 'Import\n\nsplit', details: 'tb' } } })
    expect(renderSummary(report)).toContain('<summary>✅ PASS Import split (<code>import</code>): details</summary>')
  })

  it('does not let evidence mention people or make links', () => {
    const report = reportWith({ gateChanges: { runtime: { evidence: 'ping @octocat [click](https://evil.example) ![x](y)' } } })
    expect(matrixRows(renderSummary(report))[2]?.[3]).toBe(
      'ping @&#8203;octocat \\[click\\](https://evil.example) !\\[x\\](y)'
    )
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

  it('cuts a 1 MB single-line evidence to fit, after dropping the log, details and run', () => {
    const report = reportWith({ gateChanges: { runtime: { evidence: 'x'.repeat(MB) }, import: { details: 'tb' } } })
    const markdown = renderSummary(report)
    const notice = expectTrimmed(markdown, MB)
    expect(notice).toMatch(/^_Summary trimmed to fit GitHub's 1 MiB limit: /)
    expect(notice).toContain('worker log omitted (full log: `/home/runner/work/_temp/celery-foundation-gates/cfg-7d1c0e9a/worker.log`)')
    expect(notice).toContain('details of `import` omitted')
    expect(notice).toContain('run section omitted')
    expect(notice).toMatch(/evidence and messages cut to [\d,]+ bytes each/)
    const rows = matrixRows(markdown)
    expect(rows).toHaveLength(6)
    expect(rows[2]?.[3]).toMatch(/^x{900000,}…$/)
    expect(utf8ByteLength(markdown)).toBeGreaterThan(MB - 2_000)
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
    return reportWith({
      verdict: 'fail',
      interrupted: { kind: 'crash', message: huge },
      gates: manyGates(scale / 100, huge.slice(0, 5_000)).map((gate) => ({ ...gate, details: huge })),
      worker: { ...loadReportFixture('all-pass').worker!, logTail: Array(scale / 5).fill(huge.slice(0, 200)) },
      settings: Object.fromEntries(Array.from({ length: scale / 50 }, (_unused, index) => [`input-${index}`, huge.slice(0, 300)]))
    })
  }

  it('holds for everything absurd at once', () => {
    const notice = expectTrimmed(renderSummary(absurdReport(250_000)), MB)
    expect(notice).toMatch(/details of .* omitted; run section omitted; evidence and messages cut to [\d,]+ bytes each\._$/)
  }, 60_000)

  it.each([0, 1, 50, 200, 1_000, 4_000, 20_000])('holds for a budget of %i bytes', (budget) => {
    const markdown = renderSummary(absurdReport(20_000), { budgetBytes: budget })
    expect(utf8ByteLength(markdown)).toBeLessThanOrEqual(budget)
    if (budget >= 1_000) expect(lastLine(markdown)).toMatch(TRIM_NOTICE)
  }, 30_000)

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
