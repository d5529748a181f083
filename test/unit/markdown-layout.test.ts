// The job summary's layout, its verdict sentence, and the summary of an interrupted run.
import { describe, expect, it } from 'vitest'
import { GATE_IDS } from '../../src/constants.js'
import { EVIDENCE_CELL_LINE_CHARS, EVIDENCE_CELL_LINES, renderSummary } from '../../src/report/markdown.js'
import { gateIdsOf, loadReportFixture, manyGates, passingGates, REPORT_FIXTURES, reportWith } from './report-fixtures.js'
import {
  MATRIX_HEADER,
  NBSP,
  matrixRows,
  matrixRowOf,
  GATE_BADGES,
  codeIds,
  FOUNDATION_GATES,
  verdictLine,
  detailsSection,
  thousands
} from './markdown-checks.js'

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
