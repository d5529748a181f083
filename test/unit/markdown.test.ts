import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { GATE_IDS } from '../../src/constants.js'
import type { GateStatus } from '../../src/constants.js'
import { utf8ByteLength } from '../../src/report/escape.js'
import {
  DEFAULT_SUMMARY_BUDGET_BYTES,
  EVIDENCE_CELL_LINE_CHARS,
  EVIDENCE_CELL_LINES,
  inlineMarkdown,
  REMEDIATION_EXAMPLES,
  REMEDIATION_RULES,
  renderSummary,
  REPORT_FINDINGS_SHOWN,
  TAXONOMY_TABLE_ROWS
} from '../../src/report/markdown.js'
import type { RunReport } from '../../src/report/model.js'
import { FOUNDATION_CATEGORIES } from '../../src/taxonomy/model.js'
import type { Category, ComponentStatus, TaxonomyEntry, TestsReport } from '../../src/taxonomy/model.js'
import {
  failingTest,
  gateIdsOf,
  loadReportFixture,
  manyGates,
  passingGates,
  REPORT_FIXTURES,
  reportFile,
  reportWith,
  reportWithTests,
  strictXpass
} from './report-fixtures.js'

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

/** Between a status's emoji and its label in the matrix (statusCell). */
const NBSP = '\u00a0'

function matrixRows(markdown: string): string[][] {
  return tableRows(markdown, MATRIX_HEADER)
}

/** The matrix row of gate `id`, found by the id its first cell ends with, not by its position. */
function matrixRowOf(markdown: string, id: string): string[] | undefined {
  return matrixRows(markdown).find((cells) => cells[0]?.endsWith(`\`${id}\``))
}

/** The badge the matrix shows for each status. */
const GATE_BADGES: Readonly<Record<GateStatus, string>> = {
  pass: '✅ PASS',
  fail: '❌ FAIL',
  warn: '⚠️ MIXED',
  skip: '⏭️ SKIPPED'
}

/** Gate ids as the verdict sentence names them: "`runtime`, `rls-role`". */
const codeIds = (ids: readonly string[]): string => ids.map((id) => `\`${id}\``).join(', ')

/** How many foundation gates a run has: the real runs' count, from a fixture. */
const FOUNDATION_GATES = gateIdsOf(loadReportFixture('all-pass')).length

/** The cells of each row of the table that starts with `header`. */
function tableRows(markdown: string, header: string): string[][] {
  const lines = markdown.split('\n')
  const start = lines.indexOf(header)
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

/** A count and its noun as the summary prints them: "1 failing test", "1,200 failing tests". */
const countOf = (n: number, one: string, many = `${one}s`): string => `${thousands(n)} ${n === 1 ? one : many}`

describe('renderSummary: layout', () => {
  const allPass = renderSummary(loadReportFixture('all-pass'))

  it('opens with the h2 heading and the verdict sentence', () => {
    const lines = allPass.split('\n')
    expect(lines[0]).toBe('## Celery foundation gates')
    // The real passing run: every foundation gate passed but those it was not configured for.
    const fixture = loadReportFixture('all-pass')
    const passed = gateIdsOf(fixture, { status: 'pass' })
    const skipped = gateIdsOf(fixture, { status: 'skip' })
    expect(passed.length + skipped.length).toBe(FOUNDATION_GATES)
    expect(passed.length).toBeGreaterThan(0)
    expect(lines[2]).toBe(
      skipped.length === 0
        ? `**Verdict: ✅ PASS** — all ${FOUNDATION_GATES} foundation gates passed.`
        : `**Verdict: ✅ PASS** — ${passed.length} of ${FOUNDATION_GATES} foundation gates passed; ${skipped.length} skipped: ${codeIds(skipped)}.`
    )
  })

  it('has one matrix row per gate, in gate order, each with exactly four cells', () => {
    const rows = matrixRows(allPass)
    expect(rows).toHaveLength(GATE_IDS.length)
    expect(rows.map((cells) => cells.length)).toEqual(Array(GATE_IDS.length).fill(4))
    expect(rows.map((cells) => cells[0])).toEqual(GATE_IDS.map((id) => expect.stringContaining(`\`${id}\``)))
    expect(rows[0]?.[0]).toBe('**Import** `import`')
    // Each row shows its own gate's status: the real run passed all but what it skipped.
    const { gates } = loadReportFixture('all-pass')
    expect(gates.every((gate) => gate.status === 'pass' || gate.status === 'skip')).toBe(true)
    expect(rows.map((cells) => cells[2])).toEqual(gates.map((gate) => GATE_BADGES[gate.status].replace(' ', NBSP)))
    expect(rows.map((cells) => cells[2])).toContain(`✅${NBSP}PASS`)
  })

  it('joins evidence lines with <br>', () => {
    const fixture = loadReportFixture('all-pass')
    const evidence = fixture.gates.find((gate) => gate.id === 'runtime')?.evidence ?? ''
    expect(evidence.split('\n')).toHaveLength(3)
    const cell = matrixRowOf(allPass, 'runtime')?.[3] ?? ''
    const [ready, answered, ids] = cell.split('<br>')
    expect(cell.split('<br>')).toHaveLength(3)
    expect(ready).toBe(`\`${fixture.worker?.nodeName} ready.\``)
    expect(answered).toMatch(/^celery\.ping answered &#39;pong&#39; \d+ ms after ready, [\d.]+ s after the worker started$/)
    expect(ids).toBe(`queue \`${fixture.worker?.queue}\`, task id \`${fixture.ping?.taskId}\``)
  })

  it('shows `code` in descriptions and evidence as code', () => {
    const markdown = renderSummary(loadReportFixture('import-error'))
    expect(matrixRowOf(markdown, 'import')?.[1]).toBe('The app imports in `python` from `working-directory`, as `celery -A` loads it')
    expect(matrixRowOf(markdown, 'broker-config')?.[3]).toBe('not run: `import` failed')
  })

  it('bounds a long evidence cell and shows the evidence in full in the details', () => {
    const longLine = `${'word '.repeat(100)}end`
    const evidence = [longLine, ...Array.from({ length: EVIDENCE_CELL_LINES + 2 }, (_unused, index) => `line ${index}`)]
    const report = reportWith({
      verdict: 'fail',
      gateChanges: { runtime: { status: 'fail', evidence: evidence.join('\n'), details: 'Traceback (most recent call last):' } }
    })
    const markdown = renderSummary(report)
    const cellLines = matrixRowOf(markdown, 'runtime')?.[3]?.split('<br>') ?? []
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
    expect(matrixRowOf(markdown, 'runtime')?.[3]).toBe(evidence.trim().replace(/\n/g, '<br>'))
    expect(detailsSection(markdown, 'Runtime')).toBeUndefined()
  })

  it('shows every status with its badge, held on one line by a no-break space', () => {
    const report = reportWith({
      gates: passingGates(),
      gateChanges: { import: { status: 'fail' }, 'broker-config': { status: 'warn' }, runtime: { status: 'skip' } }
    })
    expect(matrixRows(renderSummary(report)).map((cells) => cells[2])).toEqual([
      `❌${NBSP}FAIL`,
      `⚠️${NBSP}MIXED`,
      `⏭️${NBSP}SKIPPED`,
      ...Array(GATE_IDS.length - 3).fill(`✅${NBSP}PASS`)
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
    // The example's dead-letter table is append-only for app_user: the probe's row stays, by name.
    expect(detailsSection(allPass, 'Run')).toMatch(
      /\| Broker trace \| partly cleaned up — removed messages, queue row, result rows; left in the database: the probe task&#39;s dead-letter row, task id <code>[0-9a-f-]{36}<\/code> \(app\\_user may not delete\) \|/
    )
    const clean = reportWith({ trace: { removed: true, detail: "removed the run's ping message, queue row cfg-7d1c0e9a.ping and result row" } })
    expect(detailsSection(renderSummary(clean), 'Run')).toContain(
      '| Broker trace | cleaned up — removed the run&#39;s ping message, queue row <code>cfg-7d1c0e9a.ping</code> and result row |'
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
      gates: passingGates(),
      gateChanges: { runtime: { status: 'fail' }, 'rls-role': { status: 'fail' } }
    })
    expect(verdictLine(renderSummary(report))).toBe(`**Verdict: ❌ FAIL** — 2 of ${FOUNDATION_GATES} foundation gates failed: \`runtime\`, \`rls-role\`.`)
  })

  it('names the skipped gates next to the failed one', () => {
    // The real run with a Redis broker: the gates after `broker-config` did not run.
    const report = loadReportFixture('broker-config-redis')
    const skipped = gateIdsOf(report, { status: 'skip' })
    expect(gateIdsOf(report, { status: 'fail' })).toEqual(['broker-config'])
    expect(skipped).toEqual(expect.arrayContaining(['runtime', 'db-access', 'rls-role']))
    expect(gateIdsOf(report, { foundation: false }).every((id) => report.gates.find((gate) => gate.id === id)?.status === 'pass')).toBe(true)
    expect(verdictLine(renderSummary(report))).toBe(
      `**Verdict: ❌ FAIL** — 1 of ${FOUNDATION_GATES} foundation gates failed: \`broker-config\`; ${skipped.length} skipped: ${codeIds(skipped)}.`
    )
  })

  it('says how many passed when gates were skipped but none failed', () => {
    // The real cancelled run: some gates passed, the rest never ran, none failed.
    const cancelled = loadReportFixture('cancelled')
    const passed = gateIdsOf(cancelled, { status: 'pass' })
    const skipped = gateIdsOf(cancelled, { status: 'skip' })
    expect(passed.length).toBeGreaterThan(0)
    expect(skipped.length).toBeGreaterThan(0)
    expect(passed.length + skipped.length).toBe(FOUNDATION_GATES)
    expect(gateIdsOf(cancelled, { foundation: false, status: 'skip' })).toEqual(['ci'])
    expect(verdictLine(renderSummary(cancelled))).toBe(
      `**Verdict: ❌ FAIL** — ${passed.length} of ${FOUNDATION_GATES} foundation gates passed; ${skipped.length} skipped: ${codeIds(skipped)}; outside the foundation, 1 skipped: \`ci\`.`
    )
    const report = reportWith({
      verdict: 'fail',
      gates: loadReportFixture('all-pass').gates.map((gate) => ({ ...gate, status: gate.foundation ? 'warn' : 'pass' }))
    })
    const foundation = gateIdsOf(report)
    expect(verdictLine(renderSummary(report))).toBe(
      `**Verdict: ❌ FAIL** — none of the ${FOUNDATION_GATES} foundation gates passed; ${FOUNDATION_GATES} mixed: ${codeIds(foundation)}.`
    )
  })

  it('says when no foundation gate ran', () => {
    const report = reportWith({
      verdict: 'fail',
      gates: loadReportFixture('all-pass').gates.map((gate) => ({ ...gate, status: 'skip' }))
    })
    expect(verdictLine(renderSummary(report))).toBe(
      `**Verdict: ❌ FAIL** — none of the ${FOUNDATION_GATES} foundation gates ran; outside the foundation, 1 skipped: \`ci\`.`
    )
  })

  it('mentions gates outside the foundation separately', () => {
    const report = reportWith({ gates: passingGates(), gateChanges: { ci: { status: 'warn' } } })
    expect(verdictLine(renderSummary(report))).toBe(
      `**Verdict: ✅ PASS** — all ${FOUNDATION_GATES} foundation gates passed; outside the foundation, 1 mixed: \`ci\`.`
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
    expect(renderSummary(loadReportFixture('cancelled'))).toContain('\n> 🛑 **Run interrupted: cancelled by the runner.** cancelled by SIGINT\n')
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

describe('renderSummary: failure taxonomy', () => {
  const TAXONOMY_HEADER = '| Test | Type | Gate violated? | Root-cause category |'
  const COMPONENTS_HEADER = '| Component | Status | Evidence |'
  // Reports captured from real runs (npm run capture-fixtures): expectations are derived from
  // what they hold, so a recapture with other counts or names does not break the tests.
  const suiteRedTests = loadReportFixture('tests-suite-red').tests!
  const foundationRedTests = loadReportFixture('tests-foundation-red').tests!
  const suiteRed = renderSummary(loadReportFixture('tests-suite-red'))
  const foundationRed = renderSummary(loadReportFixture('tests-foundation-red'))

  const COMPONENT_BADGES: Record<ComponentStatus['status'], string> = {
    operational: '✅ OPERATIONAL',
    broken: '❌ BROKEN',
    unproven: '⏭️ UNPROVEN',
    sound: '✅ SOUND',
    defective: '❌ DEFECTIVE',
    'no-reports': '⚠️ NO REPORTS'
  }
  const isFoundation = (category: string): boolean => category.startsWith('foundation:')
  const isHarness = (category: string): boolean => category.startsWith('harness:')
  /** The taxonomy table's order: foundation, then harness, then the rest, each in report order. */
  const tableOrder = (taxonomy: readonly TaxonomyEntry[]): TaxonomyEntry[] => [
    ...taxonomy.filter((entry) => isFoundation(entry.category)),
    ...taxonomy.filter((entry) => isHarness(entry.category)),
    ...taxonomy.filter((entry) => !isFoundation(entry.category) && !isHarness(entry.category))
  ]
  /** The "Gate violated?" cell the table must show for a category. */
  const gateCell = (category: string): string =>
    isFoundation(category) ? `❌ Yes: \`${category.slice('foundation:'.length)}\`` : isHarness(category) ? '✅ No' : '❔ Unknown'
  /** The "JUnit reports" line for a report's files and totals, when at least one file matched. */
  const readLine = ({ files, totals }: TestsReport): string => {
    const read = files.filter((file) => file.status === 'ok').length
    const outcomes = [
      `${thousands(totals.passed)} passed`,
      `${thousands(totals.failed)} failed`,
      `${thousands(totals.errored)} errored`,
      `${thousands(totals.skipped)} skipped`,
      ...(totals.xfailed > 0 ? [`${thousands(totals.xfailed)} xfailed`] : []),
      ...(totals.xpassed > 0 ? [`${thousands(totals.xpassed)} xpassed`] : [])
    ]
    return `**JUnit reports:** ${thousands(read)} of ${countOf(files.length, 'file')} read, ${countOf(totals.cases, 'test case')}: ${outcomes.join(', ')}.`
  }

  const taxonomyRows = (markdown: string): string[][] => tableRows(markdown, TAXONOMY_HEADER)
  const violationsLine = (markdown: string): string => markdown.split('\n').find((line) => line.startsWith('**Total foundation gate violations:')) ?? ''
  const moreLine = (markdown: string): string => markdown.split('\n').find((line) => line.startsWith('… and ')) ?? ''

  it('comes after the gate matrix and before the collapsed sections, led by the verdict in bold', () => {
    const { verdict, taxonomy } = suiteRedTests
    expect(verdict).toMatch(/^foundation green, test suite red: /)
    expect(taxonomy.length).toBeGreaterThan(0)
    const lines = suiteRed.split('\n')
    const heading = lines.indexOf('### Failure taxonomy')
    // After the header, its separator and one row per gate.
    expect(heading).toBeGreaterThan(lines.indexOf(MATRIX_HEADER) + 1 + GATE_IDS.length)
    expect(heading).toBeLessThan(lines.findIndex((line) => line.startsWith('<details')))
    expect(lines[heading + 2]).toBe(`**${inlineMarkdown(verdict.charAt(0).toUpperCase() + verdict.slice(1))}**`)
    expect(lines[heading + 2]).toMatch(/^\*\*Foundation green, test suite red: /)
    const categories = new Set(taxonomy.map((entry) => entry.category)).size
    const summaries = [...suiteRed.matchAll(/<summary>(.*)<\/summary>/g)].map((match) => match[1])
    expect(summaries[0]).toBe(`Remediation by category (${countOf(taxonomy.length, 'failing test')} in ${countOf(categories, 'category', 'categories')})`)
    // The gates' own collapsed sections come after it.
    expect(summaries[1]).toMatch(/ \(<code>[\w-]+<\/code>\): details$/)
  })

  it('is absent when the run read no test reports', () => {
    expect(renderSummary(loadReportFixture('all-pass'))).not.toContain('Failure taxonomy')
  })

  it('has a row of four cells per failing test: id, type, gate violated, category', () => {
    const { taxonomy } = suiteRedTests
    const rows = taxonomyRows(suiteRed)
    expect(rows).toHaveLength(taxonomy.length)
    expect(rows.map((cells) => cells.length)).toEqual(Array(taxonomy.length).fill(4))
    const ordered = tableOrder(taxonomy)
    expect(rows.map((cells) => cells[0])).toEqual(ordered.map(({ classname, name }) => `\`${classname}::${name}\``))
    expect(rows.map((cells) => cells[3])).toEqual(ordered.map(({ category }) => `\`${category}\``))
    // The real readiness race errors in its fixture's setup; its row in full.
    const setupError = ordered.findIndex((entry) => entry.outcome === 'error' && entry.phase === 'setup')
    expect(setupError).toBeGreaterThanOrEqual(0)
    const entry = ordered[setupError]!
    expect(rows[setupError]).toEqual([`\`${entry.classname}::${entry.name}\``, 'Setup error', gateCell(entry.category), `\`${entry.category}\``])
    expect(rows.filter((cells) => cells[1] === 'Failure')).toHaveLength(
      taxonomy.filter(({ outcome, phase }) => outcome === 'failure' && phase === 'call').length
    )
  })

  it('tells the type of failure from its outcome and phase', () => {
    const phases = [
      ['error', 'setup'],
      ['error', 'teardown'],
      ['error', 'collection'],
      ['failure', 'call'],
      ['error', 'call']
    ] as const
    const report = reportWithTests(phases.map(([outcome, phase], index) => failingTest(index, 'harness:eager-mode', { outcome, phase })))
    expect(taxonomyRows(renderSummary(report)).map((cells) => cells[1])).toEqual(['Setup error', 'Teardown error', 'Collection error', 'Failure', 'Error'])
  })

  it('says which gate a foundation failure violates, and that the others violate none', () => {
    // The real foundation-red run: the foundation's failures name their gate, the harness's none.
    const foundationTaxonomy = foundationRedTests.taxonomy
    expect(foundationTaxonomy.some((entry) => isFoundation(entry.category))).toBe(true)
    expect(foundationTaxonomy.some((entry) => isHarness(entry.category))).toBe(true)
    const rows = taxonomyRows(foundationRed)
    expect(rows.map((cells) => cells[2])).toEqual(tableOrder(foundationTaxonomy).map((entry) => gateCell(entry.category)))
    expect(rows.filter((cells) => cells[2]?.startsWith('❌ Yes: `'))).toHaveLength(foundationTaxonomy.filter((entry) => isFoundation(entry.category)).length)
    // The same run with a failure no rule explains: it is attributed to no gate, and comes last.
    const withUnknown = taxonomyRows(renderSummary(reportWithTests([strictXpass(0), ...foundationTaxonomy])))
    expect(withUnknown.map((cells) => cells[2])).toEqual([...tableOrder(foundationTaxonomy).map((entry) => gateCell(entry.category)), '❔ Unknown'])
    expect(withUnknown.at(-1)).toEqual(['`tests.test_synthetic::test_0`', 'Failure', '❔ Unknown', '`unknown`'])
    // The real suite-red run is all harness: no row violates a gate.
    expect(suiteRedTests.taxonomy.every((entry) => isHarness(entry.category))).toBe(true)
    expect(taxonomyRows(suiteRed).map((cells) => cells[2])).toEqual(Array(suiteRedTests.taxonomy.length).fill('✅ No'))
  })

  it('lists foundation failures first, then the harness, then the rest, each in report order', () => {
    const order: Category[] = ['unknown', 'harness:readiness', 'foundation:db-access', 'harness:eager-mode', 'foundation:runtime', 'unknown']
    const report = reportWithTests(order.map((category, index) => failingTest(index, category)))
    expect(taxonomyRows(renderSummary(report)).map((cells) => cells[0])).toEqual([2, 4, 1, 3, 0, 5].map((index) => `\`tests.test_synthetic::test_${index}\``))
  })

  it('counts the distinct gates the failing tests violate', () => {
    const gates = countOf(loadReportFixture('tests-suite-red').gates.filter((g) => g.foundation).length, 'foundation gate')
    expect(suiteRedTests.taxonomy.some((entry) => isFoundation(entry.category))).toBe(false)
    expect(violationsLine(suiteRed)).toBe(`**Total foundation gate violations: 0 / ${gates}** — no failing test is attributed to the foundation.`)
    // Each blamed gate once, in gate order, with how many failing tests blame it.
    const blamed = FOUNDATION_CATEGORIES.flatMap((category) => {
      const count = foundationRedTests.taxonomy.filter((entry) => entry.category === category).length
      return count === 0 ? [] : [`\`${category.slice('foundation:'.length)}\` (${countOf(count, 'failing test')})`]
    })
    expect(blamed.length).toBeGreaterThan(0)
    expect(violationsLine(foundationRed)).toBe(`**Total foundation gate violations: ${blamed.length} / ${gates}**: ${blamed.join(', ')}.`)
    const categories: Category[] = [
      'foundation:runtime',
      'harness:readiness',
      'foundation:db-access',
      'foundation:runtime',
      'foundation:db-access',
      'foundation:runtime'
    ]
    const report = reportWithTests(categories.map((category, index) => failingTest(index, category)))
    expect(violationsLine(renderSummary(report))).toBe(
      `**Total foundation gate violations: 2 / ${gates}**: \`runtime\` (3 failing tests), \`db-access\` (2 failing tests).`
    )
  })

  it('shows each component with its status', () => {
    // The real runs: every component in report order, its kind, badge and evidence.
    const componentRows = ({ components }: TestsReport): string[][] =>
      components.map(({ component, kind, status, evidence }) => [`**${component}** (${kind})`, COMPONENT_BADGES[status], inlineMarkdown(evidence) || '—'])
    expect(suiteRedTests.components.length).toBeGreaterThan(0)
    expect(tableRows(suiteRed, COMPONENTS_HEADER)).toEqual(componentRows(suiteRedTests))
    expect(tableRows(foundationRed, COMPONENTS_HEADER)).toEqual(componentRows(foundationRedTests))
    // The foundation-red run shows a broken foundation component, the suite-red run none.
    expect(tableRows(foundationRed, COMPONENTS_HEADER).some((cells) => cells[0]?.endsWith('(foundation)') && cells[1] === '❌ BROKEN')).toBe(true)
    expect(
      tableRows(suiteRed, COMPONENTS_HEADER)
        .filter((cells) => cells[0]?.endsWith('(foundation)'))
        .map((cells) => cells[1])
    ).not.toContain('❌ BROKEN')
    // Evidence goes through the outside-text escaping (the real one has an apostrophe and `_`).
    expect(
      tableRows(suiteRed, COMPONENTS_HEADER)
        .map((cells) => cells[2])
        .join('\n')
    ).toMatch(/&#39;|\\_/)
    const statuses: Array<ComponentStatus['status']> = ['operational', 'broken', 'unproven', 'sound', 'defective', 'no-reports']
    const components = statuses.map((status) => ({ component: status, kind: 'tests' as const, status, evidence: '' }))
    expect(tableRows(renderSummary(reportWithTests([], { components })), COMPONENTS_HEADER)).toEqual([
      ['**operational** (tests)', '✅ OPERATIONAL', '—'],
      ['**broken** (tests)', '❌ BROKEN', '—'],
      ['**unproven** (tests)', '⏭️ UNPROVEN', '—'],
      ['**sound** (tests)', '✅ SOUND', '—'],
      ['**defective** (tests)', '❌ DEFECTIVE', '—'],
      ['**no-reports** (tests)', '⚠️ NO REPORTS', '—']
    ])
  })

  it('says what it read, and names globs that matched nothing and files it could not use', () => {
    // Some files read, a glob that matched nothing and a broken file, in one report.
    const mixed = renderSummary(
      reportWithTests([strictXpass(0)], {
        files: [
          reportFile('reports/unit/junit.xml', 'ok', { counts: { cases: 40, passed: 38, failed: 1, errored: 0, skipped: 0, xfailed: 1, xpassed: 0 } }),
          reportFile('reports/integration/junit-api.xml', 'ok', {
            counts: { cases: 29, passed: 27, failed: 0, errored: 0, skipped: 2, xfailed: 0, xpassed: 0 }
          }),
          reportFile('reports/integration/junit-worker.xml', 'malformed', { detail: 'line 12, column 3: unexpected end of input' })
        ],
        unmatched: ['reports/e2e/*.xml'],
        totals: { cases: 69, passed: 65, failed: 1, errored: 0, skipped: 2, xfailed: 1, xpassed: 0 },
        rulesFile: '.github/taxonomy-rules.yml'
      })
    )
    expect(mixed).toContain(
      [
        '**JUnit reports:** 2 of 3 files read, 69 test cases: 65 passed, 1 failed, 0 errored, 2 skipped, 1 xfailed.',
        '',
        '- ⚠️ No file matched `reports/e2e/*.xml`.',
        '- ⚠️ `reports/integration/junit-worker.xml` is not well-formed XML: line 12, column 3: unexpected end of input.',
        '',
        TAXONOMY_HEADER
      ].join('\n')
    )
    expect(mixed).toContain('Rules from `.github/taxonomy-rules.yml` come first, then the shipped ones.')

    // The real run whose glob matched nothing and whose other file is not JUnit: nothing read.
    const findings = loadReportFixture('tests-report-findings').tests!
    const unusable = findings.files.filter((file) => file.status !== 'ok')
    expect(findings.unmatched.length).toBeGreaterThan(0)
    expect(unusable.some((file) => file.status === 'malformed')).toBe(true)
    expect(findings.taxonomy).toEqual([])
    const markdown = renderSummary(loadReportFixture('tests-report-findings'))
    expect(markdown).toContain(
      [
        readLine(findings),
        '',
        ...findings.unmatched.map((pattern) => `- ⚠️ No file matched \`${pattern}\`.`),
        ...unusable.map(({ path, status, detail }) => {
          expect(status).toBe('malformed')
          return `- ⚠️ \`${path}\` is not well-formed XML: ${inlineMarkdown(detail ?? '')}.`
        }),
        '',
        'No test failed or errored.'
      ].join('\n')
    )
    expect(markdown).not.toContain('Rules from')

    // The real suite-red run read every file it matched: the table follows the line directly.
    expect(suiteRedTests.unmatched).toEqual([])
    expect(suiteRedTests.files.every((file) => file.status === 'ok')).toBe(true)
    expect(suiteRed).toContain(`${readLine(suiteRedTests)}\n\n${TAXONOMY_HEADER}`)
  })

  it('names a bounded number of findings of each kind', () => {
    const base = loadReportFixture('tests-report-findings').tests!
    const broken = base.files.find((file) => file.status !== 'ok')!
    expect(broken).toBeDefined()
    const report = reportWithTests(base.taxonomy, {
      unmatched: Array.from({ length: 50 }, (_unused, index) => `reports/missing-${index}/*.xml`),
      files: Array.from({ length: 30 }, (_unused, index) => ({ ...broken, path: `reports/broken-${index}.xml`, status: 'empty' as const, detail: '' }))
    })
    const markdown = renderSummary(report)
    expect(markdown).toContain('**JUnit reports:** 0 of 30 files read,')
    expect(markdown.match(/^- ⚠️ No file matched/gm)).toHaveLength(REPORT_FINDINGS_SHOWN)
    expect(markdown).toContain(`\n- … and ${50 - REPORT_FINDINGS_SHOWN} more globs that matched no file.\n`)
    expect(markdown.match(/^- ⚠️ `reports\/broken-\d+\.xml` is empty\.$/gm)).toHaveLength(REPORT_FINDINGS_SHOWN)
    expect(markdown).toContain(`\n- … and ${30 - REPORT_FINDINGS_SHOWN} more files that could not be used.\n`)
    const none = renderSummary(reportWithTests([], { files: [], unmatched: ['reports/*.xml'] }))
    expect(none).toContain('**JUnit reports:** no file matched.\n\n- ⚠️ No file matched `reports/*.xml`.')
  })

  it('says so when no test failed, without a table or remediation', () => {
    const markdown = renderSummary(reportWithTests([], { verdict: 'foundation green, test suite green' }))
    expect(markdown).toContain('**Foundation green, test suite green**')
    expect(markdown).toContain('\n\nNo test failed or errored.\n\n#### Test vs foundation distinction\n\n')
    expect(markdown).not.toContain(TAXONOMY_HEADER)
    expect(markdown).not.toContain('Remediation by category')
    expect(markdown).not.toContain('Total foundation gate violations')
  })

  it('gives each remediation once per rule, with a few examples', () => {
    const eager = Array.from({ length: 500 }, (_unused, index) =>
      failingTest(index, 'harness:eager-mode', { rule: 'eager-mode', remediation: 'Use a real worker.' })
    )
    const custom = failingTest(500, 'harness:eager-mode', { rule: 'my-eager-rule', remediation: 'Ask the team.' })
    const markdown = renderSummary(reportWithTests([...eager.slice(0, 250), custom, ...eager.slice(250)]))
    const section = detailsSection(markdown, 'Remediation by category') ?? ''
    expect(section).toContain('<summary>Remediation by category (501 failing tests in 1 category)</summary>')
    expect(section).toContain('#### `harness:eager-mode`: 501 failing tests')
    expect(section.match(/Use a real worker\./g)).toHaveLength(1)
    expect(section).toContain(
      [
        'Rule `eager-mode` (500 failing tests): Use a real worker.',
        '',
        ...Array.from(
          { length: REMEDIATION_EXAMPLES },
          (_unused, index) => `- \`tests.test_synthetic::test_${index}\`: \`AssertionError: assert ${index} == 0\``
        ),
        `- … and ${500 - REMEDIATION_EXAMPLES} more failing tests`
      ].join('\n')
    )
    expect(section).toContain('Rule `my-eager-rule` (1 failing test): Ask the team.\n\n- `tests.test_synthetic::test_500`')
    // The real suite-red run: one rule per category, so no count per rule.
    const eagerMode = suiteRedTests.taxonomy.filter((entry) => entry.category === 'harness:eager-mode')
    expect(new Set(eagerMode.map((entry) => entry.rule))).toEqual(new Set(['eager-mode']))
    expect(detailsSection(suiteRed, 'Remediation by category')).toContain(
      `#### \`harness:eager-mode\`: ${countOf(eagerMode.length, 'failing test')}\n\nRule \`eager-mode\`: With task\\_always\\_eager`
    )
  })

  it('lists a bounded number of rules per category', () => {
    const taxonomy = Array.from({ length: 25 }, (_unused, index) => failingTest(index, 'unknown', { rule: `user-rule-${index}` }))
    const section = detailsSection(renderSummary(reportWithTests(taxonomy)), 'Remediation by category') ?? ''
    expect(section.match(/^Rule `user-rule-\d+`/gm)).toHaveLength(REMEDIATION_RULES)
    expect(section).toContain(`… and ${25 - REMEDIATION_RULES} more rules (see the JSON report).`)
  })

  /** 100,000 failing tests: the last two are the foundation's, the rest the harness's. */
  function hundredThousand(changes: (index: number) => Partial<TaxonomyEntry> = () => ({})): RunReport {
    const taxonomy = Array.from({ length: 100_000 }, (_unused, index) =>
      failingTest(index, index >= 99_998 ? 'foundation:runtime' : index % 2 === 0 ? 'harness:eager-mode' : 'harness:readiness', changes(index))
    )
    return reportWithTests(taxonomy)
  }

  it('shows at most 100 of 100,000 failing tests, the foundation first, and says how many more', () => {
    const started = performance.now()
    const markdown = renderSummary(hundredThousand())
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(utf8ByteLength(markdown)).toBeLessThanOrEqual(DEFAULT_SUMMARY_BUDGET_BYTES)
    const rows = taxonomyRows(markdown)
    expect(rows).toHaveLength(TAXONOMY_TABLE_ROWS)
    expect(rows.slice(0, 3).map((cells) => cells[0])).toEqual([
      '`tests.test_synthetic::test_99998`',
      '`tests.test_synthetic::test_99999`',
      '`tests.test_synthetic::test_0`'
    ])
    expect(moreLine(markdown)).toBe('… and 99,900 more failing tests (all of them are in the JSON report and the `taxonomy` output).')
    expect(violationsLine(markdown)).toBe(
      `**Total foundation gate violations: 1 / ${countOf(loadReportFixture('all-pass').gates.filter((g) => g.foundation).length, 'foundation gate')}**: \`runtime\` (2 failing tests).`
    )
    expect(markdown).toContain('<summary>Remediation by category (100,000 failing tests in 3 categories)</summary>')
    expect(markdown).toContain('#### `harness:eager-mode`: 49,999 failing tests')
    expect(markdown).not.toContain('Summary trimmed')
  }, 30_000)

  it('shortens the taxonomy table, foundation rows last, before the gate matrix', () => {
    const budget = 16_000
    const markdown = renderSummary(
      hundredThousand((index) => ({ name: `test_${index}_${'long_parametrized_id_'.repeat(8)}` })),
      {
        budgetBytes: budget
      }
    )
    expect(utf8ByteLength(markdown)).toBeLessThanOrEqual(budget)
    const notice = lastLine(markdown)
    const shown = Number(/failure taxonomy table shortened to ([\d,]+) of 100 rows/.exec(notice)?.[1]?.replace(/,/g, ''))
    expect(notice).toMatch(
      /^_Summary trimmed to fit a budget of 16,000 bytes: worker log (omitted|shortened to \d of \d+ lines).*; run section omitted; failure taxonomy table shortened to /
    )
    expect(notice).not.toContain('gates shown')
    expect(shown).toBeGreaterThan(2)
    expect(shown).toBeLessThan(TAXONOMY_TABLE_ROWS)
    const rows = taxonomyRows(markdown)
    expect(rows).toHaveLength(shown)
    expect(rows.slice(0, 2).map((cells) => cells[2])).toEqual(['❌ Yes: `runtime`', '❌ Yes: `runtime`'])
    expect(moreLine(markdown)).toBe(`… and ${thousands(100_000 - shown)} more failing tests (all of them are in the JSON report and the \`taxonomy\` output).`)
    expect(matrixRows(markdown)).toHaveLength(GATE_IDS.length)
  }, 30_000)

  const HOSTILE = [
    '<script>alert(1)</script>',
    'a | b || c',
    '`code` ``span',
    'line\nbreak\r\nand\ttab',
    '\u001b[31mred\u001b[0m\u0000\u0007\u202e',
    '@octocat [x](https://evil.example)',
    '</details><details><summary>fake</summary>',
    '</pre>'
  ]

  it('keeps hostile names, evidence, paths and remediations in their place', () => {
    const taxonomy = HOSTILE.map((text, index) =>
      failingTest(index, index % 2 === 0 ? 'foundation:runtime' : 'unknown', {
        classname: text,
        name: text,
        evidence: text,
        rule: text,
        remediation: `${text}\n\n${text}`
      })
    )
    const report = reportWithTests(taxonomy, {
      verdict: HOSTILE.join(' '),
      unmatched: HOSTILE,
      files: HOSTILE.map((text) => reportFile(text, 'malformed', { detail: text })),
      components: HOSTILE.map((text) => ({ component: text, kind: 'foundation' as const, status: 'broken' as const, evidence: text })),
      rulesFile: HOSTILE.join('')
    })
    const markdown = renderSummary(report)
    const rows = taxonomyRows(markdown)
    expect(rows).toHaveLength(HOSTILE.length)
    expect(rows.map((cells) => cells.length)).toEqual(Array(HOSTILE.length).fill(4))
    expect(tableRows(markdown, COMPONENTS_HEADER).map((cells) => cells.length)).toEqual(Array(HOSTILE.length).fill(3))
    expect(markdown).not.toMatch(/<\/?script/i)
    expect(markdown).not.toContain('<summary>fake')
    expect(markdown).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/)
    // Outside code spans (where GitHub links nothing), no mention and no link.
    const section = markdown.slice(markdown.indexOf('### Failure taxonomy'), markdown.indexOf('<summary>✅ PASS DB'))
    for (const line of section.split('\n')) {
      for (const cell of line.startsWith('|') ? splitCells(line) : [line]) {
        for (const piece of splitCodeSpans(cell).outside) {
          expect(piece).not.toMatch(/(?<![\w@])@octocat/)
          for (const match of piece.matchAll(/(\\*)[[\]]/g)) expect((match[1] ?? '').length % 2).toBe(1)
        }
      }
    }
    expect(markdown.match(/<details/g)?.length).toBe(markdown.match(/<\/details>/g)?.length)
    expect(markdown.match(/<pre>/g)?.length).toBe(markdown.match(/<\/pre>/g)?.length)
    // A test id with line breaks is folded onto its row (foundation rows first: index 3 is the sixth).
    expect(rows[5]?.[0]).toBe('<code>line break and\ttab::line break and\ttab</code>')
  })

  it('never lets random hostile test names out of their cell', () => {
    const alphabet = [...'ab |\\`*_[]()!<>&"\'#~$@:\n\t\r', '``', '\u001b[31m', '\u0000', '\u202e', 'é', '😀']
    let seed = 7
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
    const text = (): string => Array.from({ length: 30 }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')
    for (let round = 0; round < 5; round++) {
      const taxonomy = Array.from({ length: TAXONOMY_TABLE_ROWS }, (_unused, index) =>
        failingTest(index, 'harness:readiness', { classname: text(), name: text() })
      )
      const rows = taxonomyRows(renderSummary(reportWithTests(taxonomy)))
      expect(rows).toHaveLength(TAXONOMY_TABLE_ROWS)
      for (const cells of rows) {
        expect(cells).toHaveLength(4)
        expect(cells.slice(1)).toEqual(['Failure', '✅ No', '`harness:readiness`'])
        expect(cells[0]?.replace(/<\/?code>/g, '')).not.toMatch(/[<>\n]/)
      }
    }
  })

  it('bounds a huge test name, evidence and remediation', () => {
    const huge = 'x'.repeat(1_000_000)
    const report = reportWithTests([failingTest(0, 'unknown', { name: huge, evidence: huge, remediation: huge })])
    const markdown = renderSummary(report)
    expect(utf8ByteLength(markdown)).toBeLessThan(40_000)
    const kept = 'x'.repeat(EVIDENCE_CELL_LINE_CHARS - 'tests.test_synthetic::'.length - 1)
    // The mark makes it more than printable ASCII, so it is escaped `<code>` rather than a span.
    expect(taxonomyRows(markdown)[0]?.[0]).toBe(`<code>tests.test\\_synthetic::${kept}…</code>`)
    expect(markdown).not.toContain('Summary trimmed')
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
