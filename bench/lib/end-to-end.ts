// The end-to-end part of `npm run bench`: the action against "boot a worker, ping it once, stop
// it warm" (the floor), with the same worker arguments, for each pool and data plane. The stop is
// measured on its own: the floor's from SIGTERM to the worker's exit (bench/floor.py), the
// action's from its report (worker.stop.ms: SIGTERM to exit, output closed).
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import type { RunReport } from '../../src/report/model.js'
import { EXAMPLE_APP, REPO, pythonFor, type CeleryVersion } from '../../test/support/action.js'
import { exampleDatabase, runOnExample, type ExampleDatabase } from '../../test/support/example.js'
import type { TestPostgres } from '../../test/support/postgres.js'
import { trackPeakRss } from '../../test/support/run-watch.js'

const FLOOR_SCRIPT = path.join(REPO, 'bench', 'floor.py')

export type Pool = 'solo' | 'prefork'
export type PlaneId = 'sqla' | 'pgmq'

/** The worker arguments both sides get: solo, or nothing (Celery's default, prefork). */
export const WORKER_ARGS: Record<Pool, string[]> = { solo: ['--pool=solo'], prefork: [] }

export interface Plane {
  id: PlaneId
  app: string
  db: ExampleDatabase
}

export interface Config {
  version: CeleryVersion
  pool: Pool
  plane: Plane
  /** The previous release's bundle, measured beside this one (interleaved) on the same worker. */
  baseline?: { commit: string; script: string }
}

export interface ActionSample {
  wallMs: number
  peakRssMb: number
  report: RunReport
}

export interface ScriptSample {
  wallMs: number
  pongMs: number
  stopMs: number
  attempts: number
}

export interface ConfigResult {
  config: Config
  action: ActionSample[]
  floor: ScriptSample[]
  readiness: ScriptSample[]
  /** The previous release's action (config.baseline), when measured. */
  baseline: ActionSample[]
}

const mb = (bytes: number): number => Math.round((bytes / 1e6) * 10) / 10

/** The example app's `sqla` plane: its own database, as the tests make it. */
export async function sqlaPlane(pg: TestPostgres): Promise<Plane> {
  return { id: 'sqla', app: 'app.celery_app', db: await exampleDatabase(pg) }
}

const PGMQ_VARIANT = path.join(EXAMPLE_APP, 'app', 'variants', 'pgmq_broker.py')
const PGMQ_GRANTS = path.join(EXAMPLE_APP, 'sql', 'variants', 'pgmq.sql')

/**
 * The PGMQ plane (kombu 5.7's pgmq:// transport): the example's PGMQ variant on a database with
 * PGMQ installed SQL-only and the variant's grants. A string says why it is skipped.
 */
export async function pgmqPlane(pg: TestPostgres): Promise<Plane | string> {
  if (!existsSync(PGMQ_VARIANT) || !existsSync(PGMQ_GRANTS))
    return 'the example app has no PGMQ variant yet (examples/tenant-app/app/variants/pgmq_broker.py and sql/variants/pgmq.sql)'
  const { installPgmq } = await import('../../test/support/pgmq.js')
  const db = await exampleDatabase(pg)
  await installPgmq(pg, db.database)
  await pg.applySqlFile(db.database, PGMQ_GRANTS, { owner_role: db.ownerRole, app_role: db.appRole, app_password: db.password })
  return { id: 'pgmq', app: 'app.variants.pgmq_broker', db }
}

export async function actionRun(c: Config, script?: string): Promise<ActionSample> {
  let rss: { stop: () => number } | undefined
  const started = performance.now()
  const inputs = { app: c.plane.app, 'worker-args': WORKER_ARGS[c.pool].join(' ') }
  const result = await runOnExample(c.version, c.plane.db, inputs, {
    onSpawn: (child) => (rss = trackPeakRss(child.pid as number)),
    ...(script ? { script } : {})
  })
  const wallMs = performance.now() - started
  const peak = rss?.stop() ?? 0
  if (result.code !== 0 || !result.report) throw new Error(`the action failed in the benchmark (${label(c)}): ${result.stdout.slice(-2000)}`)
  return { wallMs, peakRssMb: mb(peak), report: result.report }
}

export async function scriptRun(mode: 'floor' | 'readiness', c: Config): Promise<ScriptSample> {
  const queue = `bench_${randomBytes(4).toString('hex')}`
  const started = performance.now()
  const run = await execa(pythonFor(c.version), [FLOOR_SCRIPT, mode, c.plane.app, queue, ...WORKER_ARGS[c.pool]], {
    cwd: EXAMPLE_APP,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', DATABASE_URL: c.plane.db.url },
    extendEnv: false,
    stdin: 'ignore',
    reject: false
  })
  const wallMs = performance.now() - started
  if (run.exitCode !== 0) throw new Error(`bench/floor.py ${mode} (${label(c)}) failed (${run.exitCode ?? run.signal}): ${run.stderr.slice(-2000)}`)
  const line = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { pongS: number; stopS: number; attempts: number }
  return { wallMs, pongMs: line.pongS * 1000, stopMs: line.stopS * 1000, attempts: line.attempts }
}

export function label(c: Config): string {
  return `Celery ${c.version}, ${c.pool}, ${c.plane.id}`
}

/**
 * One warm-up of each (not counted: the first Python start pays for cold file caches), then
 * `repeats` interleaved rounds, so that a slow minute of the machine hits every side alike.
 */
export async function measure(c: Config, repeats: number, withReadiness: boolean, log: (line: string) => void): Promise<ConfigResult> {
  await actionRun(c)
  await scriptRun('floor', c)
  if (c.baseline) await actionRun(c, c.baseline.script)
  const out: ConfigResult = { config: c, action: [], floor: [], readiness: [], baseline: [] }
  for (let i = 0; i < repeats; i++) {
    out.action.push(await actionRun(c))
    if (c.baseline) out.baseline.push(await actionRun(c, c.baseline.script))
    out.floor.push(await scriptRun('floor', c))
    if (withReadiness) out.readiness.push(await scriptRun('readiness', c))
    const a = out.action.at(-1) as ActionSample
    const f = out.floor.at(-1) as ScriptSample
    log(
      `${label(c)} ${i + 1}/${repeats}: action ${Math.round(a.wallMs)} ms (stop ${a.report.worker?.stop?.ms ?? '?'} ms), floor ${Math.round(f.wallMs)} ms (stop ${Math.round(f.stopMs)} ms)`
    )
  }
  return out
}
