// The pg_stat_activity sampler (src/run/session-sampler.ts) against a real PostgreSQL and a real
// process tree: a shell whose python child holds two libpq sessions (one named like the run, one
// with its own application_name) is seen while they live, each attributed to its process by its
// client port; sampling stops with the tree, stop() closes its connection on every path (also
// when it is still connecting), and nothing it keeps holds a password.
import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, ACTION_APPLICATION_NAME } from '../../src/db/database.js'
import { parseDsn } from '../../src/db/dsn.js'
import { SessionSampler } from '../../src/run/session-sampler.js'
import { pythonFor } from '../support/action.js'
import { SUPERUSER, TestPostgres } from '../support/postgres.js'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

const RUN_NAME = 'cfg-sampler-test'
const HOLD = `
import os, sys, time, psycopg
a = psycopg.connect(sys.argv[1])
b = psycopg.connect(sys.argv[1], application_name="sneaky-etl")
time.sleep(1.5)
a.close(); b.close()
`

async function actionSessions(): Promise<number> {
  const rows = await pg.query('postgres', 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [ACTION_APPLICATION_NAME])
  return (rows[0] as { n: number }).n
}

const superParts = () => parseDsn(pg.url('postgres', SUPERUSER, pg.superPassword))!

describe('SessionSampler', () => {
  it("sees the tree's sessions while they live, by name and by port, and stops with the tree", async () => {
    const url = pg.url('postgres', SUPERUSER, pg.superPassword)
    const child = spawn('sh', ['-c', `"${pythonFor('5.7')}" -c '${HOLD}' "$0"`, url], { env: { ...process.env, PGAPPNAME: RUN_NAME }, stdio: 'ignore' })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    const sampler = new SessionSampler({
      connect: async () => ({ db: await connect(superParts()), serverPort: pg.port }),
      applicationName: RUN_NAME,
      workerPid: () => (child.exitCode === null && child.signalCode === null ? child.pid : undefined),
      redact: (t) => t,
      intervalMs: 100
    })
    sampler.start()
    await exited
    const record = await sampler.snapshot()
    const said = record.identities.map((i) => `${i.where}: ${i.count} as ${i.role}`)
    expect(said.some((s) => /^\S+ process: 1 as postgres$/.test(s))).toBe(true)
    expect(said.some((s) => /^\S+ process \(application_name sneaky-etl\): 1 as postgres$/.test(s))).toBe(true)
    expect(record.samples).toBeGreaterThan(2)
    expect(JSON.stringify(record)).not.toContain(pg.superPassword)
    // The tree is gone: the loop ended by itself; stop() closes the connection.
    const samples = record.samples
    await sleep(400)
    expect(sampler.record().samples).toBe(samples)
    await sampler.stop()
    await sleep(100)
    expect(await actionSessions()).toBe(0)
  })

  it('keeps at most maxSessions sessions and counts each other one once', async () => {
    const url = pg.url('postgres', SUPERUSER, pg.superPassword)
    const child = spawn('sh', ['-c', `"${pythonFor('5.7')}" -c '${HOLD}' "$0"`, url], { env: { ...process.env, PGAPPNAME: RUN_NAME }, stdio: 'ignore' })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    const sampler = new SessionSampler({
      connect: async () => ({ db: await connect(superParts()), serverPort: pg.port }),
      applicationName: RUN_NAME,
      workerPid: () => (child.exitCode === null && child.signalCode === null ? child.pid : undefined),
      redact: (t) => t,
      intervalMs: 100,
      maxSessions: 1
    })
    sampler.start()
    await exited
    const record = await sampler.snapshot()
    await sampler.stop()
    expect(record.samples).toBeGreaterThan(2)
    expect(record.identities.map((i) => i.count)).toEqual([1])
    expect(record.dropped).toBe(1)
  })

  it('closes a connection that arrives after stop(), and takes no sample', async () => {
    let connected: Promise<unknown> | undefined
    const sampler = new SessionSampler({
      connect: () => {
        const late = (async () => {
          await sleep(300)
          return { db: await connect(superParts()), serverPort: pg.port }
        })()
        connected = late
        return late
      },
      applicationName: RUN_NAME,
      workerPid: () => process.pid,
      redact: (t) => t,
      intervalMs: 50
    })
    sampler.start()
    await sampler.stop()
    await connected
    await sleep(200)
    expect(sampler.record().samples).toBe(0)
    expect(await actionSessions()).toBe(0)
  })

  it('says why nothing was sampled when it cannot connect', async () => {
    const parts = { ...superParts(), password: 'wrong' }
    const sampler = new SessionSampler({
      connect: async () => ({ db: await connect(parts), serverPort: pg.port }),
      applicationName: RUN_NAME,
      workerPid: () => process.pid,
      redact: (t) => t.replaceAll(pg.superPassword, '***')
    })
    sampler.start()
    for (let i = 0; i < 50 && !sampler.record().note; i++) await sleep(100)
    const record = await sampler.snapshot()
    await sampler.stop()
    expect(record.samples).toBe(0)
    expect(record.note).toMatch(/^could not connect to sample pg_stat_activity: .*password authentication failed/)
  })
})
