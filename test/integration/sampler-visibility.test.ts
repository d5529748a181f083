// The sampler's blind spot, said (src/run/session-sampler.ts): PostgreSQL shows a session's client
// port only to its own role, a member or pg_read_all_stats. A sampler connected as the app's role
// (the default: the broker DSN) cannot attribute a worker process's session as a superuser that
// sets its own application_name; before, the record then said nothing at all — a silent gap in
// one of rls-role's three identity sources. Real PostgreSQL, a real process tree.
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../../src/db/database.js'
import { parseDsn } from '../../src/db/dsn.js'
import { sampledFindings } from '../../src/gates/rls-role.js'
import { SessionSampler } from '../../src/run/session-sampler.js'
import { pythonFor } from '../support/action.js'
import { SUPERUSER, TestPostgres } from '../support/postgres.js'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
  await pg.query('postgres', "CREATE ROLE sampler_app LOGIN PASSWORD 'sampler-pw'")
})
afterAll(async () => {
  await pg?.destroy()
})

const RUN_NAME = 'cfg-review-sampler'
/** A process of the tree holding one session as `argv[1]`'s role, under its own application_name. */
const HOLD = `
import sys, time, psycopg
b = psycopg.connect(sys.argv[1], application_name="sneaky-etl")
time.sleep(1.5)
b.close()
`

async function sample(asRole: { user: string; password: string }) {
  const url = pg.url('postgres', SUPERUSER, pg.superPassword)
  const child = spawn('sh', ['-c', `"${pythonFor('5.7')}" -c '${HOLD}' "$0"`, url], { env: { ...process.env, PGAPPNAME: RUN_NAME }, stdio: 'ignore' })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const sampler = new SessionSampler({
    connect: async () => ({ db: await connect(parseDsn(pg.url('postgres', asRole.user, asRole.password))!), serverPort: pg.port }),
    applicationName: RUN_NAME,
    workerPid: () => (child.exitCode === null && child.signalCode === null ? child.pid : undefined),
    redact: (t) => t,
    intervalMs: 100
  })
  sampler.start()
  await exited
  const record = await sampler.snapshot()
  await sampler.stop()
  return record
}

describe('SessionSampler, sampling as a role that cannot see the session', () => {
  it("says the worker's superuser session it could not attribute, and rls-role shows it", async () => {
    const record = await sample({ user: 'sampler_app', password: 'sampler-pw' })
    expect(record.samples).toBeGreaterThan(2)
    // PostgreSQL hides the session's client port from sampler_app: no identity can be named …
    expect(record.identities).toEqual([])
    // … and the record says so instead of looking like a tree with no session.
    expect(record.unattributed).toMatch(/^1 connection of the worker's processes to port \d+ matched no session sampler_app may see: .*pg_read_all_stats/)
    expect(sampledFindings(record, 'app_user', []).lines).toContainEqual(expect.stringMatching(/^⚠️ 1 connection of the worker's processes/))
    expect(JSON.stringify(record)).not.toContain(pg.superPassword)
  })

  it('says nothing of the kind when the sampling role sees the session', async () => {
    const record = await sample({ user: SUPERUSER, password: pg.superPassword })
    expect(record.identities.map((i) => i.role)).toEqual([SUPERUSER])
    expect(record.unattributed).toBeUndefined()
  })
})
