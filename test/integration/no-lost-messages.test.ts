// The action's fast stop loses and duplicates no message. While the action runs, its worker
// consumes the app's queues (the queues gate pings each of them); a publisher puts real tasks of
// the example app into those queues before, during and after the stop. Each `record_invoice` call
// inserts one invoice row with its own amount, so the rows count the task's executions exactly;
// each `nap` stores its result. Afterwards every message must have run once or still be queued,
// never both, never neither; a fresh worker then runs what is left, and every invoice must exist
// exactly once. Real PostgreSQL, real Celery workers.
//
// Still queued: on sqla a visible row in kombu_message (a taken row stays, invisible, whether it
// was acknowledged or lost — so "invisible and never ran" counts as lost). On PGMQ a row in the
// queue's table, visible now or after its visibility timeout (a stopped worker's unacknowledged
// messages come back only then); an acknowledged message is deleted.
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execa } from 'execa'
import { EXAMPLE_APP, pythonFor, type ActionResult, type CeleryVersion } from '../support/action.js'
import { exampleDatabase, runOnExample, secretsOf, type ExampleDatabase } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'

const GROUP = 'Concurrency and load'
const QUEUES = ['celery', 'invoices']

type PlaneId = 'sqla' | 'pgmq'
const APPS: Record<PlaneId, string> = { sqla: 'app.celery_app', pgmq: 'app.variants.pgmq_broker' }
// kombu 5.7's pgmq:// transport, once the example app has its variant (added with the PGMQ plane).
const PGMQ_GRANTS = path.join(EXAMPLE_APP, 'sql', 'variants', 'pgmq.sql')
const PGMQ_ABSENT = !existsSync(path.join(EXAMPLE_APP, 'app', 'variants', 'pgmq_broker.py')) || !existsSync(PGMQ_GRANTS)

let pg: TestPostgres
const dbs = new Map<string, ExampleDatabase>()
beforeAll(async () => {
  pg = await TestPostgres.start()
  // One database per Celery version and plane: 5.7 adds columns to the result table.
  dbs.set('5.7 sqla', await exampleDatabase(pg))
  dbs.set('5.2 sqla', await exampleDatabase(pg))
  if (!PGMQ_ABSENT) {
    const db = await exampleDatabase(pg)
    const { installPgmq } = await import('../support/pgmq.js')
    await installPgmq(pg, db.database)
    await pg.applySqlFile(db.database, PGMQ_GRANTS, { owner_role: db.ownerRole, app_role: db.appRole, app_password: db.password })
    dbs.set('5.7 pgmq', db)
  }
}, 120_000)
afterAll(async () => {
  await pg?.destroy()
})

/**
 * Publishes while the file `flag` exists (at most `seconds`), one message every `pace` seconds:
 * `record_invoice(tenant, i)` (routed to `invoices`), and every `napEvery`th message a short `nap`
 * (the default queue) so that a task is often running when the stop comes. Prints what it
 * published as one JSON line.
 */
const PUBLISHER = `
import json, os, sys, time
from celery.app.utils import find_app
app = find_app(sys.argv[3])
tenant, seconds, pace, nap_every, flag = sys.argv[1], float(sys.argv[2]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
out, i, end = [], 0, time.monotonic() + seconds
while time.monotonic() < end and os.path.exists(flag):
    r = app.send_task('app.tasks.invoices.record_invoice', args=[tenant, str(i)])
    out.append({'kind': 'invoice', 'i': i, 'id': r.id})
    if i % nap_every == 0:
        out.append({'kind': 'nap', 'i': i, 'id': app.send_task('app.tasks.housekeeping.nap', args=[0.15]).id})
    i += 1
    time.sleep(pace)
print(json.dumps(out))
`

interface Published {
  kind: 'invoice' | 'nap'
  i: number
  id: string
}

function publish(version: CeleryVersion, plane: PlaneId, db: ExampleDatabase, tenant: string, seconds: number, flag: string): Promise<Published[]> {
  // PGMQ's drain long-polls each empty queue for up to 2 s in turn: a worker there takes a message
  // every second or two, and the queues gate's pings must not wait behind a backlog.
  const [pace, napEvery] = plane === 'sqla' ? ['0.03', '15'] : ['1.0', '3']
  return execa(pythonFor(version), ['-c', PUBLISHER, tenant, String(seconds), APPS[plane], pace, napEvery, flag], {
    cwd: EXAMPLE_APP,
    env: { DATABASE_URL: db.url }
  }).then((run) => JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '[]') as Published[])
}

interface Counts {
  /** Invoice amount (the message's index) → rows: how often its task ran. */
  ran: Map<number, number>
  /** Task id → rows still queued in the app's queues. */
  queued: Map<string, number>
  /** Task ids with a stored result (nap). */
  results: Set<string>
}

async function counts(plane: PlaneId, db: ExampleDatabase, tenant: string, visibleOnly = false): Promise<Counts> {
  // As the superuser: row-level security hides the tenant's invoices from anyone else.
  const ran = (await pg.query(db.database, 'SELECT amount::int AS i, count(*)::int AS n FROM invoices WHERE tenant_id = $1 GROUP BY 1', [tenant])) as Array<{
    i: number
    n: number
  }>
  const results = (await pg.query(db.database, "SELECT task_id FROM celery_taskmeta WHERE status = 'SUCCESS'")) as Array<{ task_id: string }>
  const queued = plane === 'sqla' ? await queuedSqla(db) : await queuedPgmq(db, visibleOnly)
  return { ran: new Map(ran.map((r) => [r.i, r.n])), queued, results: new Set(results.map((r) => r.task_id)) }
}

/** Task id → visible rows in the app's queues (kombu's sqla transport keeps taken rows, invisible). */
async function queuedSqla(db: ExampleDatabase): Promise<Map<string, number>> {
  const rows = (await pg.query(
    db.database,
    `SELECT m.payload::json -> 'headers' ->> 'id' AS id, count(*)::int AS n FROM kombu_message m
       JOIN kombu_queue q ON q.id = m.queue_id WHERE m.visible AND q.name = ANY($1) GROUP BY 1`,
    [QUEUES]
  )) as Array<{ id: string; n: number }>
  return new Map(rows.map((r) => [r.id, r.n]))
}

/** Task id → rows in the app's PGMQ queues: visible now (visibleOnly), or also after their visibility timeout. */
async function queuedPgmq(db: ExampleDatabase, visibleOnly: boolean): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  const existing = (await pg.query(db.database, 'SELECT queue_name FROM pgmq.meta WHERE queue_name = ANY($1)', [QUEUES])) as Array<{ queue_name: string }>
  for (const { queue_name: queue } of existing) {
    const rows = (await pg.query(
      db.database,
      `SELECT message -> 'headers' ->> 'id' AS id, count(*)::int AS n FROM pgmq."q_${queue}" ${visibleOnly ? 'WHERE vt <= clock_timestamp()' : ''} GROUP BY 1`
    )) as Array<{ id: string; n: number }>
    for (const r of rows) out.set(r.id, (out.get(r.id) ?? 0) + r.n)
  }
  return out
}

/** Each message's fate: run once, or still queued once; never both, twice, or not at all. */
function fates(published: Published[], c: Counts): { ran: number; queued: number; problems: string[] } {
  const problems: string[] = []
  let ran = 0
  let queued = 0
  for (const m of published) {
    const runs = m.kind === 'invoice' ? (c.ran.get(m.i) ?? 0) : c.results.has(m.id) ? 1 : 0
    const waiting = c.queued.get(m.id) ?? 0
    if (runs + waiting !== 1) problems.push(`${m.kind} ${m.i} (${m.id}): ran ${runs}×, queued ${waiting}×`)
    ran += runs
    queued += waiting
  }
  return { ran, queued, problems }
}

/**
 * A plain Celery worker of the same version runs what is left, then is stopped warm — once every
 * message ran and a loop cycle later (Celery 5.2 performs a task's ack in its next loop cycle;
 * its own warm shutdown would otherwise put back the last one, see quickstop.py).
 */
async function drain(version: CeleryVersion, plane: PlaneId, db: ExampleDatabase, tenant: string, published: Published[]): Promise<void> {
  const worker = execa(
    pythonFor(version),
    ['-m', 'celery', '-A', APPS[plane], 'worker', '--pool=solo', '-Q', QUEUES.join(','), '-n', `drain-${randomUUID().slice(0, 8)}@%h`],
    {
      cwd: EXAMPLE_APP,
      env: { DATABASE_URL: db.url },
      reject: false
    }
  )
  try {
    const deadline = Date.now() + 90_000
    // Until every message ran, but those PGMQ hides until their visibility timeout (30 min).
    const ids = new Set(published.map((m) => m.id))
    const waiting = async (): Promise<boolean> => {
      const visible = await counts(plane, db, tenant, true)
      const all = plane === 'pgmq' ? await counts(plane, db, tenant) : visible
      const f = fates(published, all)
      return [...visible.queued.keys()].some((id) => ids.has(id)) || f.ran + f.queued < published.length
    }
    while (Date.now() < deadline && (await waiting())) await sleep(250)
    await sleep(2500)
  } finally {
    worker.kill('SIGTERM')
    await worker
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function fastStopCase(version: CeleryVersion, pool: 'solo' | 'prefork', plane: PlaneId = 'sqla'): Promise<void> {
  const db = dbs.get(`${version} ${plane}`) as ExampleDatabase
  const tenant = randomUUID()
  // Published from before the action starts until after it ended: messages wait when the worker
  // boots, arrive while it works and while it stops, and after it is gone. The run starts once a
  // few are queued, and publishing ends a while after it (not on a clock: a loaded machine must
  // not leave a case with nothing run or nothing left over, which would prove nothing).
  const flag = path.join(mkdtempSync(path.join(tmpdir(), 'cfg-publish-')), 'publishing')
  writeFileSync(flag, '')
  const publishing = publish(version, plane, db, tenant, 120, flag)
  const waitingAtBoot = plane === 'sqla' ? 20 : 2
  const until = Date.now() + 60_000
  while ((await counts(plane, db, tenant)).queued.size < waitingAtBoot && Date.now() < until) await sleep(100)
  let result: ActionResult
  try {
    result = await runOnExample(version, db, { app: APPS[plane], 'worker-args': pool === 'solo' ? '--pool=solo' : '' })
    await sleep(plane === 'sqla' ? 1000 : 2500)
  } finally {
    rmSync(path.dirname(flag), { recursive: true, force: true })
  }
  const published = await publishing
  const stop = result.report?.worker?.stop
  const after = fates(published, await counts(plane, db, tenant))
  await drain(version, plane, db, tenant, published)
  const end = fates(published, await counts(plane, db, tenant))
  const visibleLeft = fates(published, await counts(plane, db, tenant, true)).queued
  const name = `Celery ${version}, ${pool} pool, ${plane}: ${published.length} messages published before, during and after the run, fast stop (${stop?.how ?? '?'} in ${stop?.ms ?? '?'} ms): ${after.ran} ran, ${after.queued} still queued`
  checkStep(
    GROUP,
    name,
    result,
    { code: 0, gates: { runtime: 'pass' }, timeoutS: 30, secrets: secretsOf(db) },
    'every message ran once or is still queued; none lost, none twice'
  )
  expect(stop?.how).toBe('warm')
  expect(after.problems).toEqual([])
  // Some ran during the run and some were left for later, or the case proves nothing.
  expect(after.ran).toBeGreaterThan(0)
  expect(after.queued).toBeGreaterThan(0)
  expect(end.problems).toEqual([])
  // What is left is only what PGMQ hides until the visibility timeout; on sqla nothing.
  expect(visibleLeft).toBe(0)
  if (plane === 'sqla') expect(end.queued).toBe(0)
}

describe('the fast stop loses and duplicates no message', () => {
  it('Celery 5.7, solo pool', () => fastStopCase('5.7', 'solo'), 150_000)
  it("Celery 5.7, prefork (Celery's default pool)", () => fastStopCase('5.7', 'prefork'), 150_000)
  // Celery 5.2 left the acks of tasks that ran during its warm shutdown unperformed and put those
  // messages back (they ran twice); quickstop.py performs them first, as 5.7 does.
  it('Celery 5.2, solo pool', () => fastStopCase('5.2', 'solo'), 150_000)
  it('Celery 5.2, prefork', () => fastStopCase('5.2', 'prefork'), 150_000)
  // PGMQ gives back nothing at shutdown (restore_at_shutdown is off): what the stopped worker
  // held unacknowledged comes back after the visibility timeout, and counts as still queued.
  it.skipIf(PGMQ_ABSENT)('Celery 5.7, solo pool, PGMQ', () => fastStopCase('5.7', 'solo', 'pgmq'), 150_000)
  it.skipIf(PGMQ_ABSENT)('Celery 5.7, prefork, PGMQ', () => fastStopCase('5.7', 'prefork', 'pgmq'), 150_000)
})
