import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { GATE_IDS } from '../../src/constants.js'
import { utf8ByteLength } from '../../src/report/escape.js'
import {
  DEFAULT_SUMMARY_BUDGET_BYTES,
  EVIDENCE_CELL_LINE_CHARS,
  EVIDENCE_CELL_LINES,
  inlineMarkdown,
  renderSummary
} from '../../src/report/markdown.js'
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

/** Reads inline markdown the way GitHub does: `\` escapes the next character, `…` is a code span. */
function splitCodeSpans(markdown: string): { outside: string[]; spans: string[] } {
  const outside: string[] = []
  const spans: string[] = []
  let piece = ''
  for (let index = 0; index < markdown.length; index++) {
    const character = markdown[index] ?? ''
    if (character === '\\') {
      piece += character + (markdown[index + 1] ?? '')
      index++
    } else if (character === '`') {
      const end = markdown.indexOf('`', index + 1)
      if (end === -1) throw new Error(`unclosed code span in ${markdown}`)
      outside.push(piece)
      spans.push(markdown.slice(index, end + 1))
      piece = ''
      index = end
    } else {
      piece += character
    }
  }
  outside.push(piece)
  return { outside, spans }
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

/** Numbers as the summary prints them: 6,333. */
const thousands = (n: number): string => n.toLocaleString('en-US')

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
    const fixture = loadReportFixture('all-pass')
    const evidence = fixture.gates[2]?.evidence ?? ''
    expect(evidence.split('\n')).toHaveLength(3)
    const cell = matrixRows(allPass)[2]?.[3] ?? ''
    const [ready, answered, ids] = cell.split('<br>')
    expect(cell.split('<br>')).toHaveLength(3)
    expect(ready).toBe(`\`${fixture.worker?.nodeName} ready.\``)
    expect(answered).toMatch(/^celery\.ping answered &#39;pong&#39; \d+ ms after ready, [\d.]+ s after the worker started$/)
    expect(ids).toBe(`queue \`${fixture.worker?.queue}\`, task id \`${fixture.ping?.taskId}\``)
  })

  it('shows `code` in descriptions and evidence as code', () => {
    const rows = matrixRows(renderSummary(loadReportFixture('import-error')))
    expect(rows[0]?.[1]).toBe('The app imports in `python` from `working-directory`, as `celery -A` loads it')
    expect(rows[1]?.[3]).toBe('not run: `import` failed')
  })

  it('bounds a long evidence cell and shows the evidence in full in the details', () => {
    const longLine = `${'word '.repeat(100)}end`
    const evidence = [longLine, ...Array.from({ length: EVIDENCE_CELL_LINES + 2 }, (_unused, index) => `line ${index}`)]
    const report = reportWith({
      verdict: 'fail',
      gateChanges: { runtime: { status: 'fail', evidence: evidence.join('\n'), details: 'Traceback (most recent call last):' } }
    })
    const markdown = renderSummary(report)
    const cellLines = matrixRows(markdown)[2]?.[3]?.split('<br>') ?? []
    expect(cellLines).toHaveLength(EVIDENCE_CELL_LINES + 1)
    expect([...(cellLines[0] ?? '')]).toHaveLength(EVIDENCE_CELL_LINE_CHARS)
    expect(cellLines[0]).toMatch(/^word word .*…$/)
    expect(cellLines.slice(1, -1)).toEqual(evidence.slice(1, EVIDENCE_CELL_LINES))
    expect(cellLines.at(-1)).toBe('… 3 more lines')
    const details = detailsSection(markdown, 'Runtime') ?? ''
    expect(details.startsWith('<details open>')).toBe(true)
    expect(details).toContain(`Evidence in full (shortened in the table):\n\n<pre>\n${evidence.join('\n')}\n</pre>`)
    expect(details).toContain('Details:\n\n<pre>\nTraceback (most recent call last):\n</pre>')
  })

  it('leaves evidence that fits the cell whole, without a details section for it', () => {
    const evidence = `${'x'.repeat(EVIDENCE_CELL_LINE_CHARS)}\n${'line\n'.repeat(EVIDENCE_CELL_LINES - 1)}`
    const markdown = renderSummary(reportWith({ gateChanges: { runtime: { evidence } } }))
    expect(matrixRows(markdown)[2]?.[3]).toBe(evidence.trim().replace(/\n/g, '<br>'))
    expect(detailsSection(markdown, 'Runtime')).toBeUndefined()
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

  it('puts gate details, the worker log, the timings and the run in collapsed sections, in that order', () => {
    const summaries = [...allPass.matchAll(/<summary>(.*)<\/summary>/g)].map((match) => match[1])
    expect(summaries).toEqual([
      '✅ PASS DB Accessibility (<code>db-access</code>): details',
      '✅ PASS RLS/Role (<code>rls-role</code>): details',
      `Worker log (last ${loadReportFixture('all-pass').worker?.logTail.length} lines)`,
      `Timings (total ${thousands(loadReportFixture('all-pass').timings.totalMs)} ms)`,
      'Run <code>cfg-7d1c0e9a</code>'
    ])
    expect(allPass).not.toContain('<details open>')
  })

  it('says where the full worker log is', () => {
    const bytes = thousands(loadReportFixture('all-pass').worker?.logBytes ?? 0)
    expect(detailsSection(allPass, 'Worker log')).toContain(
      `Full log: \`/home/runner/work/_temp/celery-foundation-gates/cfg-7d1c0e9a/worker.log\` (${bytes} bytes).`
    )
  })

  it('says when the worker kept no log file, and that the log was cut', () => {
    const worker = { ...loadReportFixture('all-pass').worker!, logFile: undefined, logBytes: 5_000_000, logTruncated: true }
    expect(detailsSection(renderSummary(reportWith({ worker })), 'Worker log')).toContain(
      'No log file was kept (the worker printed 5,000,000 bytes, cut at its size limit).'
    )
  })

  /** The `| label | ms |` rows of the timings table. */
  function milestones(markdown: string): Array<string | undefined> {
    const timings = detailsSection(markdown, 'Timings') ?? ''
    return [...timings.matchAll(/^\| ([^|]+) \| [\d,]+ \|$/gm)].map((match) => match[1]?.trim())
  }

  it('lists only the milestones that happened, in the order they happened', () => {
    // The real run published its ping before the worker was ready.
    const { timings } = loadReportFixture('all-pass')
    expect(timings.pingPublishedMs).toBeLessThan(timings.workerReadyMs ?? 0)
    const { gatesMs: _gates, workerStopMs: _stop, ...withoutEnd } = timings
    const markdown = renderSummary(reportWith({ timings: withoutEnd }))
    expect(milestones(markdown)).toEqual(['App probed', 'Ping published', 'Worker ready', 'Pong received', 'Total'])
    expect(detailsSection(markdown, 'Timings')).toContain(
      `| Ping published | ${thousands(timings.pingPublishedMs ?? 0)} |\n| Worker ready | ${thousands(timings.workerReadyMs ?? 0)} |`
    )
    expect(detailsSection(markdown, 'Timings')).toContain(`| Total | ${thousands(timings.totalMs)} |`)
    expect(milestones(renderSummary(loadReportFixture('broker-config-redis')))).toEqual(['App probed', 'Gates checked', 'Worker stopped', 'Total'])
    expect(milestones(renderSummary(loadReportFixture('all-pass')))).toEqual([
      'App probed',
      'Ping published',
      'Worker ready',
      'Pong received',
      'Gates checked',
      'Worker stopped',
      'Total'
    ])
  })

  it('gives the ping round trip as a duration, apart from the milestones', () => {
    const timings = detailsSection(allPass, 'Timings') ?? ''
    expect(timings).toContain(`The ping's round trip took ${thousands(loadReportFixture('all-pass').timings.roundTripMs ?? 0)} ms.`)
    expect(timings).not.toMatch(/^\| .*round trip/im)
    expect(detailsSection(renderSummary(loadReportFixture('import-error')), 'Timings')).not.toContain('round trip')
  })

  it('shows run facts and every setting in the run section', () => {
    const report = reportWith({
      settings: { ...loadReportFixture('all-pass').settings, 'database-url': 'postgresql://***@127.0.0.1:5432/gatelab', 'worker-args': '' }
    })
    const run = detailsSection(renderSummary(report), 'Run') ?? ''
    const worker = report.worker!
    for (const fact of [
      '| Run id | `cfg-7d1c0e9a` |',
      '| Worker node | `cfg-7d1c0e9a@fv-az1785-417` |',
      '| Queue | `cfg-7d1c0e9a.ping` |',
      `| Worker pid | ${worker.pid} |`,
      `| Worker exit | exited with code 0 after ${thousands(worker.exit?.afterMs ?? 0)} ms |`,
      `| Worker stop | warm shutdown in ${thousands(worker.stop?.ms ?? 0)} ms |`,
      `| Ping task id | \`${report.ping?.taskId}\` |`,
      "| Ping result | `'pong'` |",
      '| Celery | 5.7.0 |',
      '| Python | 3.11.7 |'
    ]) {
      expect(run).toContain(fact)
    }
    const settingRows = run.split('\n').filter((line) => /^\| `[A-Za-z-]+` \| /.test(line))
    expect(settingRows).toHaveLength(Object.keys(report.settings).length)
    expect(run).toContain('| `app` | `app.celery_app` |')
    expect(run).toContain('| `database-url` | `postgresql://***@127.0.0.1:5432/gatelab` |')
    expect(run).toContain('| `worker-args` | _(empty)_ |')
  })

  it('describes how a killed worker ended', () => {
    const cancelled = loadReportFixture('cancelled')
    const run = detailsSection(renderSummary(cancelled), 'Run') ?? ''
    expect(cancelled.worker?.exit?.signal).toBe('SIGKILL')
    expect(run).toContain(`| Worker exit | exited with signal SIGKILL after ${thousands(cancelled.worker?.exit?.afterMs ?? 0)} ms |`)
    expect(run).toContain(`| Worker stop | killed after ${thousands(cancelled.worker?.stop?.ms ?? 0)} ms |`)
  })

  it('says whether the run removed its trace from the broker tables', () => {
    expect(detailsSection(allPass, 'Run')).toContain(
      '| Broker trace | cleaned up — removed the run&#39;s ping message, queue row cfg-7d1c0e9a.ping and result row |'
    )
    const report = reportWith({
      trace: { removed: false, detail: 'left in the database: messages (app_user may not delete)' }
    })
    expect(detailsSection(renderSummary(report), 'Run')).toContain(
      '| Broker trace | not cleaned up — left in the database: messages (app\\_user may not delete) |'
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
    expect(verdictLine(renderSummary(loadReportFixture('broker-config-redis')))).toBe(
      '**Verdict: ❌ FAIL** — 1 of 5 foundation gates failed: `broker-config`; 3 skipped: `runtime`, `db-access`, `rls-role`.'
    )
  })

  it('says how many passed when gates were skipped but none failed', () => {
    expect(verdictLine(renderSummary(loadReportFixture('cancelled')))).toBe(
      '**Verdict: ❌ FAIL** — 2 of 5 foundation gates passed; 3 skipped: `runtime`, `db-access`, `rls-role`; outside the foundation, 1 skipped: `ci`.'
    )
    const report = reportWith({
      verdict: 'fail',
      gates: loadReportFixture('all-pass').gates.map((gate) => ({ ...gate, status: gate.foundation ? 'warn' : 'pass' }))
    })
    expect(verdictLine(renderSummary(report))).toBe(
      '**Verdict: ❌ FAIL** — none of the 5 foundation gates passed; 5 mixed: `import`, `broker-config`, `runtime`, `db-access`, `rls-role`.'
    )
  })

  it('says when no foundation gate ran', () => {
    const report = reportWith({
      verdict: 'fail',
      gates: loadReportFixture('all-pass').gates.map((gate) => ({ ...gate, status: 'skip' }))
    })
    expect(verdictLine(renderSummary(report))).toBe(
      '**Verdict: ❌ FAIL** — none of the 5 foundation gates ran; outside the foundation, 1 skipped: `ci`.'
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

  it('shows the real interruption messages', () => {
    expect(renderSummary(loadReportFixture('cancelled'))).toContain(
      '\n> 🛑 **Run interrupted: cancelled by the runner.** cancelled by SIGINT\n'
    )
    expect(renderSummary(loadReportFixture('input-error'))).toContain(
      '\n> 🛑 **Run interrupted: input error.** Input &quot;timeout&quot;: expected a number of seconds from 1 to 3600, got &quot;abc&quot;\n'
    )
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
    expect(details).toContain("ModuleNotFoundError: No module named &#39;tenant_billing_sdk&#39;\n</pre>")
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
    const rows = matrixRows(renderSummary(report))
    expect(rows.map((cells) => cells.length)).toEqual([4, 4, 4, 4, 4, 4])
    expect(rows[2]?.[3]).toBe(
      'a <code>&lt;b&gt;\\|x</code> b `ok` @&#8203;octocat <code>unclosed \\|</code>@&#8203;team\\` \\`\\`'
    )
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
    expect(rows).toHaveLength(6)
    expect(rows[2]?.[3]).toBe(matrixRows(renderSummary(loadReportFixture('all-pass')))[2]?.[3])
    expect(utf8ByteLength(markdown)).toBeGreaterThan(MB - 2_000)
  }, 30_000)

  it('keeps a 1 MB evidence out of the matrix and drops its full copy first', () => {
    const report = reportWith({ gateChanges: { runtime: { evidence: 'x'.repeat(MB) } } })
    const markdown = renderSummary(report)
    const notice = expectTrimmed(markdown, MB)
    expect(notice).toMatch(/: details of `runtime` omitted\._$/)
    expect(matrixRows(markdown)[2]?.[3]).toBe(`${'x'.repeat(EVIDENCE_CELL_LINE_CHARS - 1)}…`)
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
