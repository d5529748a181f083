// kombu's init_extension (on by default: CREATE EXTENSION IF NOT EXISTS pgmq CASCADE on connect)
// on a server that HAS the pgmq extension: what a real Celery 5.7 worker does when PGMQ is
// installed as the extension, installed SQL-only, or not installed with or without the right to
// create it — and that pgmqBootProblems says so before the worker boots.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../src/db/database.js'
import { pgmqBootProblems } from '../../src/planes/pgmq-boot.js'
import { installPgmq } from '../support/pgmq.js'
import { startWithPgmqExtension, type ExtensionServer } from '../support/pgmq-extension.js'
import * as w from '../support/pgmq-worker.js'
import { SUPERUSER, type TestPostgres } from '../support/postgres.js'

const ROLE = w.WORKER_ROLE
const INIT_ON = '{}'
let server: ExtensionServer
let pg: TestPostgres
const open: Database[] = []

beforeAll(async () => {
  server = await startWithPgmqExtension()
  pg = server.pg
  await w.createWorkerRole(pg)
})

afterAll(async () => {
  for (const db of open) await db.close()
  await server?.destroy()
})

describe('init_extension on, on a server with the pgmq extension', () => {
  it('PGMQ installed as the extension: harmless for a least-privilege role (IF NOT EXISTS is a no-op); the worker boots', async () => {
    const database = 'ext_installed'
    await pg.createDatabase(database)
    await pg.query(database, 'CREATE EXTENSION pgmq')
    await w.grantPgmqNeeds(pg, database)
    const db = await w.superDb(pg, database, open)
    const found = await pgmqBootProblems(db, {}, ROLE, { consumed: ['celery'], nodeName: w.NODE })
    expect(found.problems).toEqual([])
    expect(found.lines).toContain(`PGMQ 1.13.0 (extension, owner ${SUPERUSER})`)
    expect(found.lines.join('\n')).toContain('CREATE EXTENSION IF NOT EXISTS pgmq is a no-op')
    const run = await w.runWorker(pg, database, INIT_ON)
    expect(run.log).not.toContain('CRITICAL')
    expect(run.result).toBe('5')
  })

  it('PGMQ installed SQL-only: named with the fix; the worker retries its connection without end', async () => {
    const database = 'ext_sql_only'
    await pg.createDatabase(database)
    await installPgmq(pg, database)
    await w.grantPgmqNeeds(pg, database)
    const db = await w.superDb(pg, database, open)
    const found = await pgmqBootProblems(db, {}, ROLE)
    expect(found.problems).toEqual([
      expect.stringContaining(`('table meta is not a member of extension "pgmq"'), and the worker retries connecting without end`)
    ])
    expect(found.problems[0]).toContain('broker_transport_options={"init_extension": False}')
    const run = await w.runWorker(pg, database, INIT_ON, { giveUpOn: /Trying again in .*\(2\/100\)/ })
    expect(run.ready).toBe(false)
    expect(run.log).toContain('table meta is not a member of extension "pgmq"')
    expect(run.log).toContain('Cannot connect to pgmq://')
    // The fix: the same worker boots with init_extension off.
    expect((await w.runWorker(pg, database, w.INIT_OFF)).result).toBe('5')
  })

  it('PGMQ not installed, the role may not create the extension: named with the fix; the worker exits at boot', async () => {
    const database = 'ext_missing'
    await pg.createDatabase(database)
    const db = await w.superDb(pg, database, open)
    const found = await pgmqBootProblems(db, {}, ROLE)
    expect(found.problems).toEqual([
      expect.stringContaining(
        `PGMQ is not installed in ${database} (no schema pgmq), and the worker's role ${ROLE} may not create extension pgmq (needs CREATE on database ${database})`
      )
    ])
    expect(found.problems[0]).toContain('have the database owner run CREATE EXTENSION pgmq')
    const run = await w.runWorker(pg, database, INIT_ON)
    expect(run.ready).toBe(false)
    expect(run.log).toContain(`permission denied for database ${database}`)
  })

  it('PGMQ not installed, the role may create it (CREATE on the database): no problem; the worker creates it and boots', async () => {
    const database = 'ext_created'
    await pg.createDatabase(database)
    await pg.query(database, `GRANT CREATE ON DATABASE ${database} TO ${ROLE}`)
    const db = await w.superDb(pg, database, open)
    const found = await pgmqBootProblems(db, {}, ROLE)
    expect(found.problems).toEqual([])
    expect(found.lines).toContain(
      `PGMQ is not installed in ${database} (no schema pgmq); init_extension on: the worker's role ${ROLE} will create extension pgmq 1.13.0 at boot (and own it)`
    )
    expect((await w.runWorker(pg, database, INIT_ON)).result).toBe('5')
    const [ext] = await pg.query<{ owner: string }>(database, "SELECT pg_get_userbyid(extowner) AS owner FROM pg_extension WHERE extname = 'pgmq'")
    expect(ext?.owner).toBe(ROLE)
  })
})
