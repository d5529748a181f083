// Benchmark: classify a JUnit report of 100,000 test cases and render the summary.
// Targets (issue 3): under 2 s and under 300 MB, and the summary still fits GitHub's 1 MiB,
// saying what it left out. Each measurement runs in a fresh Node process (so its peak RSS is its
// own); the medians of the repeats are written to bench/results/taxonomy.md.
//
//   npx tsx bench/taxonomy.ts            # 5 repeats per scenario, writes the results file
//   npx tsx bench/taxonomy.ts --repeats 3
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { readJUnitReports } from '../src/junit/read.js'
import { analyzeTests } from '../src/taxonomy/analyze.js'
import { DEFAULT_RULES } from '../src/taxonomy/default-rules.js'
import { renderSummary } from '../src/report/markdown.js'
import type { GateResult, RunReport } from '../src/report/model.js'
import { writeReport } from './lib/junit-generator.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '..')
const TARGET_MS = 2000
const TARGET_RSS_MB = 300
const SUMMARY_LIMIT = 1024 * 1024

const { values: args } = parseArgs({
  options: {
    once: { type: 'string' },
    'parse-only': { type: 'string' },
    repeats: { type: 'string', default: '5' },
    cases: { type: 'string', default: '100000' }
  }
})

const GREEN: GateResult[] = ['import', 'broker-config', 'runtime', 'db-access', 'rls-role'].map((id) => ({
  id,
  title: id,
  description: id,
  status: 'pass',
  evidence: 'ok',
  foundation: true,
  durationMs: 0
}))

/** The XML parser's share: the same file read with nothing done per case. */
async function parseOnly(file: string): Promise<void> {
  const t0 = performance.now()
  await readJUnitReports([path.basename(file)], { cwd: path.dirname(file), onCase: () => {} })
  process.stdout.write(JSON.stringify({ parseMs: performance.now() - t0 }))
}

/** One measurement, in this (fresh) process. */
async function once(file: string): Promise<void> {
  const t0 = performance.now()
  const tests = await analyzeTests({
    patterns: [path.basename(file)],
    cwd: path.dirname(file),
    roots: [path.dirname(file)],
    rules: DEFAULT_RULES,
    gates: GREEN,
    values: { pong_ms: '1540', pong_after_ready_ms: '71' }
  })
  const classifiedMs = performance.now() - t0
  const report = {
    schemaVersion: 1,
    tool: { name: 'bench', version: '0' },
    runId: 'cfg-bench',
    startedAt: '',
    finishedAt: '',
    verdict: 'pass',
    failOn: 'foundation',
    gates: [...GREEN, { ...GREEN[0]!, id: 'ci', foundation: false }],
    versions: { node: process.versions.node, action: '0' },
    timings: { totalMs: 0 },
    settings: {},
    tests
  } as RunReport
  const t1 = performance.now()
  const summary = renderSummary(report)
  const renderMs = performance.now() - t1
  const rssMb = process.resourceUsage().maxRSS / 1024
  const leftOut = /_Summary trimmed[^\n]*|… and [\d,]+ more failing tests[^\n|]*/.exec(summary)?.[0] ?? ''
  process.stdout.write(
    JSON.stringify({
      classifiedMs,
      renderMs,
      totalMs: classifiedMs + renderMs,
      rssMb,
      summaryBytes: Buffer.byteLength(summary),
      failed: tests.failed,
      cases: tests.totals.cases,
      leftOut
    })
  )
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

async function main(): Promise<void> {
  if (args.once) return once(args.once)
  if (args['parse-only']) return parseOnly(args['parse-only'])
  const cases = Number(args.cases)
  const repeats = Number(args.repeats)
  const dir = mkdtempSync(path.join(tmpdir(), 'cfg-bench-'))
  // A typical red suite, a very red one, and the stress case where every case failed.
  const scenarios = [
    { name: `${cases.toLocaleString('en-US')} cases, 1 in 20 failing`, share: 0.05 },
    { name: `${cases.toLocaleString('en-US')} cases, 1 in 5 failing`, share: 0.2 },
    { name: `${cases.toLocaleString('en-US')} cases, all failing (stress)`, share: 1 }
  ]
  const rows: string[] = []
  // The machine may be shared: the load around the run says how far wall-clock figures can be trusted.
  const loadBefore = loadavg()[0] ?? 0
  try {
    for (const s of scenarios) {
      const file = path.join(dir, `junit-${s.share}.xml`)
      await writeReport(file, cases, s.share)
      const fresh = <T>(mode: string): T => {
        const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), mode, file], { encoding: 'utf8', cwd: ROOT })
        if (r.status !== 0) throw new Error(r.stderr)
        return JSON.parse(r.stdout) as T
      }
      const runs = Array.from({ length: repeats }, () =>
        fresh<{ classifiedMs: number; renderMs: number; totalMs: number; rssMb: number; summaryBytes: number; failed: number; cases: number; leftOut: string }>(
          '--once'
        )
      )
      const parseMs = median(Array.from({ length: repeats }, () => fresh<{ parseMs: number }>('--parse-only').parseMs))
      const last = runs.at(-1)!
      const total = median(runs.map((r) => r.totalMs))
      const rss = median(runs.map((r) => r.rssMb))
      const ok = total < TARGET_MS && rss < TARGET_RSS_MB && last.summaryBytes <= SUMMARY_LIMIT
      rows.push(
        `| ${s.name} | ${(statSync(file).size / 1e6).toFixed(1)} MB | ${last.failed.toLocaleString('en-US')} | ${parseMs.toFixed(0)} | ${median(runs.map((r) => r.classifiedMs)).toFixed(0)} | ${median(runs.map((r) => r.renderMs)).toFixed(0)} | **${total.toFixed(0)}** | **${rss.toFixed(0)}** | ${last.summaryBytes.toLocaleString('en-US')} | ${ok ? '✅' : `❌ ${(total / TARGET_MS).toFixed(1)}× the time target`} |`
      )
      console.log(rows.at(-1))
      console.log(`  summary says: ${last.leftOut}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    } catch {
      return 'unknown'
    }
  })()
  const text = `# Benchmark: failure taxonomy at scale

Generated by \`npx tsx bench/taxonomy.ts\` (do not edit by hand). Each figure is the median of ${repeats} runs, each in a
fresh Node process: read and classify a pytest-style JUnit report (streamed, every failing case classified
by the default rules against green gates), then render the job summary. Peak RSS is the whole process
(Node's own ~50 MB included).

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, commit ${commit}.
Load average (1 min) when the run started and ended: ${loadBefore.toFixed(1)} and ${(loadavg()[0] ?? 0).toFixed(1)} on ${cpus().length} CPUs${loadBefore > cpus().length || (loadavg()[0] ?? 0) > cpus().length ? ' — other processes competed for the CPUs, so the times are higher than on an idle machine' : ''}.
Targets: classify + render under ${TARGET_MS} ms and ${TARGET_RSS_MB} MB; summary ≤ 1 MiB (${SUMMARY_LIMIT.toLocaleString('en-US')} bytes).

| scenario | report size | failing | XML parse alone ms | read + classify ms | render ms | total ms | peak RSS MB | summary bytes | targets |
|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

"XML parse alone" is the same file streamed through the reader with nothing done per case: the
floor set by the XML parser (saxes, which checks every character). When every one of the 100,000
cases fails, the report is ~80 MB of tracebacks: parsing takes most of the budget, and classifying
100,000 tracebacks against every rule (regular expressions over each ~1 KB traceback) the rest.
What keeps that under the target (issue 15): each case is handed over as soon as it is read (no
window of cases waiting to be merged), the classifier is compiled once per run (rules whose gate
conditions do not hold for the run are dropped once, not checked per case), a pattern search
allocates nothing, and the evidence line is copied by slicing rather than through a Buffer (which
cost 300 ms and 60 MB for 100,000 entries). Tried and not kept: one alternation of all the rules'
patterns as a pre-screen, and literal-substring pre-filters — V8's regular expressions were as fast.
`
  mkdirSync(path.join(HERE, 'results'), { recursive: true })
  writeFileSync(path.join(HERE, 'results', 'taxonomy.md'), text)
  console.log(`\nwrote bench/results/taxonomy.md`)
}

await main()
