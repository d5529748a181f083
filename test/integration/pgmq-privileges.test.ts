// db-access on PGMQ (kombu 5.7's pgmq:// transport, PGMQ 1.13.0 SQL-only from the pgmq package):
// each check against a real PostgreSQL, and a real Celery 5.7 worker proving, for each broken
// variant, that the worker dies (or misbehaves) exactly where the check says, and that the
// privilege table (PGMQ_NEEDS) is enough: the worker runs on it with EXECUTE revoked from PUBLIC
// on every PGMQ function, granted back only for the functions the table lists.
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../src/db/database.js'
import { parseDsn } from '../../src/db/dsn.js'
import { checkPgmqNeeds } from '../../src/db/pgmq-catalog.js'
import { grantFor, PGMQ_NEEDS } from '../../src/db/pgmq-privileges.js'
import { pgmqQueueName, pidboxQueue } from '../../src/planes/envelope.js'
import { pgmqAccess } from '../../src/gates/db-access-pgmq.js'
import { pgmqBootProblems } from '../../src/planes/pgmq-boot.js'
import { dbAccessGate } from '../../src/gates/db-access.js'
import { pythonFor } from '../support/action.js'
import { plainFacts, probeReport } from '../support/gate-facts.js'
import * as w from '../support/pgmq-worker.js'
import { SUPERUSER, TestPostgres } from '../support/postgres.js'

const FIXTURES = w.PGMQ_FIXTURES
const ROLE = w.WORKER_ROLE
const NODE = w.NODE
const OFF = w.INIT_OFF

let pg: TestPostgres
const open: Database[] = []

beforeAll(async () => {
  pg = await TestPostgres.start()
  await w.createWorkerRole(pg)
})

afterAll(async () => {
  for (const db of open) await db.close()
  await pg?.destroy()
})

const url = (database: string, user: string, password: string) => pg.url(database, user, password)
const brokerUrl = (database: string) => w.brokerUrl(pg, database)
const backendUrl = (database: string) => w.backendUrl(pg, database)
const superDb = (database: string) => w.superDb(pg, database, open)
const preparedDatabase = (database: string, install = true) => w.preparedDatabase(pg, database, install)
const runWorker = (database: string, opts: string, args: string[] = []) => w.runWorker(pg, database, opts, { args })

describe('PGMQ least privileges (PGMQ_NEEDS) against a real worker', () => {
  const database = 'pgmq_ok'
  const prefix = 'app-'
  const opts = JSON.stringify({ init_extension: false, queue_name_prefix: prefix })

  it('the listed privileges are enough: the worker boots, answers, and every check passes', async () => {
    await preparedDatabase(database)
    const db = await superDb(database)
    const before = await pgmqBootProblems(db, { init_extension: false, queue_name_prefix: prefix }, ROLE, { consumed: ['celery'], nodeName: NODE })
    expect(before.problems).toEqual([])
    expect(before.lines.join('\n')).toContain('PGMQ SQL-only install')
    const checks = await checkPgmqNeeds(db, ROLE, PGMQ_NEEDS)
    expect(checks.filter((c) => !c.granted)).toEqual([])

    const run = await runWorker(database, opts)
    expect(run.log).not.toMatch(/CRITICAL|permission denied/)
    expect(run.ready).toBe(true)
    expect(run.result).toBe('5')

    // The names kombu gave its queues are the ones the checks compute (prefix, punctuation as _).
    const meta = (await db.query<{ queue_name: string }>('SELECT queue_name FROM pgmq.meta ORDER BY 1')).map((r) => r.queue_name)
    expect(meta).toEqual([pgmqQueueName(prefix, 'celery'), pidboxQueue(prefix, NODE)].sort())

    const probe = probeReport({ consumed_queues: ['celery'], broker: { url: brokerUrl(database), pgmq: { init_extension: false, queue_name_prefix: prefix } } })
    const access = await pgmqAccess(db, probe, ROLE)
    expect(access.problems).toEqual([])
    expect(access.lines.join('\n')).toContain(`${PGMQ_NEEDS.length} of ${PGMQ_NEEDS.length} PGMQ privileges held by ${ROLE}`)
    expect(access.lines.join('\n')).toContain(`queue tables of app_celery: 2 owned by ${ROLE}`)
  })

  /** The db-access gate itself on the PGMQ data plane (until broker-config accepts pgmq://). */
  async function gateOn(opts: { init_extension: boolean; queue_name_prefix: string }) {
    const broker = brokerUrl(database)
    const backend = backendUrl(database)
    const probe = probeReport({
      consumed_queues: ['celery'],
      broker: { url: broker, pgmq: opts },
      backend: { url: backend, scheme: 'db+postgresql' },
      versions: { python: '3.11', celery: '5.7.0', kombu: '5.7.0' }
    })
    const plane = {
      kind: 'pgmq' as const,
      broker: { url: broker, parts: parseDsn(broker)!, redacted: 'pgmq://***@127.0.0.1/pgmq_ok' },
      backend: { url: backend, parts: parseDsn(backend)!, redacted: 'db+postgresql://***@127.0.0.1/pgmq_ok' }
    }
    const facts = plainFacts({
      probe: () => Promise.resolve({ ok: true, probe }),
      dataPlane: () => Promise.resolve({ ok: true, plane, notes: [] }),
      database: () => superDb(database)
    })
    return dbAccessGate.run({ settings: { databaseUrl: url(database, SUPERUSER, pg.superPassword) } as never, facts, earlier: [] })
  }

  it('the db-access gate passes on the PGMQ data plane', async () => {
    const outcome = await gateOn({ init_extension: false, queue_name_prefix: prefix })
    expect(outcome.evidence).toContain(`${PGMQ_NEEDS.length} of ${PGMQ_NEEDS.length} PGMQ privileges held`)
    expect(outcome.evidence).not.toContain('kombu_queue')
    expect(outcome.details).toContain(`ok      ${ROLE} CREATE on schema pgmq`)
    expect(outcome.status).toBe('pass')
  })

  it('the db-access gate fails with init_extension on and with a missing grant, naming each with its fix', async () => {
    await pg.query(database, `REVOKE SELECT ON pgmq.topic_bindings FROM ${ROLE}`)
    try {
      const outcome = await gateOn({ init_extension: true, queue_name_prefix: prefix })
      expect(outcome.status).toBe('fail')
      const [init, grant] = outcome.evidence.split('\n')
      expect(init).toContain('init_extension is on')
      expect(init).toContain('broker_transport_options={"init_extension": False}')
      expect(grant).toContain(`${ROLE} lacks SELECT on table pgmq.topic_bindings`)
      expect(grant).toContain(`GRANT SELECT ON pgmq.topic_bindings TO "${ROLE}"`)
      expect(outcome.details).toContain(`MISSING ${ROLE} SELECT on table pgmq.topic_bindings`)
    } finally {
      await pg.query(database, `GRANT SELECT ON pgmq.topic_bindings TO ${ROLE}`)
    }
  })

  // Each revoked privilege: the check names it with its GRANT, and the real worker dies of it.
  const fatal = PGMQ_NEEDS.filter((n) => n.kind !== 'function')
  for (const need of fatal) {
    it(`without ${need.privilege} on ${need.object}: the check names it, the worker exits at boot`, async () => {
      const db = await superDb(database)
      const grant = grantFor(need, ROLE)
      await pg.query(database, grant.replace(/^GRANT/, 'REVOKE').replace(/ TO /, ' FROM '))
      try {
        const probe = probeReport({
          consumed_queues: ['celery'],
          broker: { url: brokerUrl(database), pgmq: { init_extension: false, queue_name_prefix: prefix } }
        })
        const access = await pgmqAccess(db, probe, ROLE)
        expect(access.problems).toHaveLength(1)
        expect(access.problems[0]).toContain(`${ROLE} lacks ${need.privilege} on ${need.kind} ${need.object}`)
        expect(access.problems[0]).toContain(grant)
        const run = await runWorker(database, opts)
        expect(run.ready).toBe(false)
        expect(run.log).toContain('Unrecoverable error')
        // The worker's own words are the ones the table quotes.
        expect(run.log).toContain(
          need
            .without!.split(': ')
            .pop()!
            .replace(/ \(.*\)$/, '')
        )
      } finally {
        await pg.query(database, grant)
      }
    })
  }

  it('without EXECUTE on pgmq.delete: the check names it; the worker answers but cannot acknowledge', async () => {
    const need = PGMQ_NEEDS.find((n) => n.object === 'pgmq.delete(text,bigint)')!
    const grant = grantFor(need, ROLE)
    await pg.query(database, grant.replace(/^GRANT/, 'REVOKE').replace(/ TO /, ' FROM '))
    try {
      const db = await superDb(database)
      const probe = probeReport({
        consumed_queues: ['celery'],
        broker: { url: brokerUrl(database), pgmq: { init_extension: false, queue_name_prefix: prefix } }
      })
      const access = await pgmqAccess(db, probe, ROLE)
      expect(access.problems).toEqual([expect.stringContaining(`lacks EXECUTE on function pgmq.delete(text,bigint): the worker acknowledges`)])
      expect(access.problems[0]).toContain(grant)
      const run = await runWorker(database, opts)
      expect(run.result).toBe('5')
      expect(run.log).toContain('permission denied for function delete')
    } finally {
      await pg.query(database, grant)
    }
  })
})

describe('PGMQ boot killers, diagnosed before the worker dies of them', () => {
  it('PGMQ missing: named with both ways to install it; the worker exits at boot', async () => {
    const database = 'pgmq_missing'
    await preparedDatabase(database, false)
    const db = await superDb(database)
    const off = await pgmqBootProblems(db, { init_extension: false }, ROLE)
    expect(off.problems).toHaveLength(1)
    expect(off.problems[0]).toContain('PGMQ is not installed in pgmq_missing (no schema pgmq)')
    expect(off.problems[0]).toContain('CREATE EXTENSION pgmq')
    expect(off.problems[0]).toContain('install_pgmq_from_sql')
    const on = await pgmqBootProblems(db, {}, ROLE)
    expect(on.problems[0]).toContain('the server has no pgmq extension')
    const run = await runWorker(database, OFF)
    expect(run.ready).toBe(false)
    expect(run.log).toContain('schema "pgmq" does not exist')
  })

  it('init_extension on (kombu default) on a SQL-only install: named with the fix; the worker exits at boot', async () => {
    const database = 'pgmq_init'
    await preparedDatabase(database)
    const db = await superDb(database)
    const found = await pgmqBootProblems(db, {}, ROLE)
    expect(found.problems).toHaveLength(1)
    expect(found.problems[0]).toContain("init_extension is on (kombu's default) and PGMQ is a SQL-only install")
    expect(found.problems[0]).toContain(`('extension "pgmq" is not available')`)
    expect(found.problems[0]).toContain('broker_transport_options={"init_extension": False}')
    const run = await runWorker(database, '{}')
    expect(run.ready).toBe(false)
    expect(run.log).toContain('extension "pgmq" is not available')
    // With the fix, the same role on the same database boots.
    expect((await pgmqBootProblems(db, { init_extension: false }, ROLE)).problems).toEqual([])
  })

  it('a queue table owned by another role: named with the ALTER TABLE; the worker exits at boot, and boots after the fix', async () => {
    const database = 'pgmq_foreign'
    await preparedDatabase(database)
    await pg.query(database, "SELECT pgmq.create('celery')")
    const db = await superDb(database)
    const found = await pgmqBootProblems(db, { init_extension: false }, ROLE, { consumed: ['celery'], nodeName: NODE })
    expect(found.problems).toEqual([
      expect.stringContaining(`pgmq.a_celery (queue celery) is owned by ${SUPERUSER}, not by the worker's role ${ROLE}`),
      expect.stringContaining(`pgmq.q_celery (queue celery) is owned by ${SUPERUSER}, not by the worker's role ${ROLE}`)
    ])
    expect(found.problems[1]).toContain(`ALTER TABLE pgmq."q_celery" OWNER TO "${ROLE}"`)
    const run = await runWorker(database, OFF)
    expect(run.ready).toBe(false)
    expect(run.log).toContain('must be owner of table')
    for (const t of ['q_celery', 'a_celery']) await pg.query(database, `ALTER TABLE pgmq."${t}" OWNER TO "${ROLE}"`)
    expect((await pgmqBootProblems(db, { init_extension: false }, ROLE, { consumed: ['celery'], nodeName: NODE })).problems).toEqual([])
    expect((await runWorker(database, OFF)).result).toBe('5')
  })

  it('a queue name over PGMQ 47 characters: named; the worker exits at boot', async () => {
    const database = 'pgmq_ok'
    const db = await superDb(database)
    const long = `q${'x'.repeat(47)}`
    const found = await pgmqBootProblems(db, { init_extension: false }, ROLE, { consumed: [long], nodeName: NODE })
    expect(found.problems).toEqual([expect.stringContaining(`queue ${long} is ${long} in PGMQ, longer than PGMQ's 47 characters (48)`)])
    const run = await runWorker(database, OFF, ['-Q', long])
    expect(run.ready).toBe(false)
    expect(run.log).toContain('queue name is too long, maximum length is 47 characters')
  })

  it("pgmq_probe.py reports kombu's init_extension default and the bundled PGMQ version", async () => {
    const module = path.join(FIXTURES, '..', '..', '..', 'src', 'celery', 'pgmq_probe.py')
    const run = (opts: string) =>
      execa(pythonFor('5.7'), [path.join(FIXTURES, 'options.py'), module], {
        cwd: FIXTURES,
        env: { ...process.env, BROKER: 'pgmq://u:secret@h/d', BACKEND: 'db+postgresql://u@h/d', OPTS: opts }
      })
    const dflt = JSON.parse((await run('{}')).stdout) as Record<string, unknown>
    expect(dflt).toMatchObject({ init_extension: true, queue_name_prefix: '', conn_string: false, bundled_sql: '1.13.0' })
    const set = JSON.parse(
      (await run(JSON.stringify({ init_extension: false, queue_name_prefix: 'p_', conn_string: 'host=x password=secret' }))).stdout
    ) as Record<string, unknown>
    expect(set).toMatchObject({ init_extension: false, queue_name_prefix: 'p_', conn_string: true })
    expect(JSON.stringify(set)).not.toContain('secret')
  })
})
