// "Exactly as kombu's PGMQ transport publishes": the same message put once by kombu 5.7's own
// transport (Channel._new_queue + Channel._put, in the Celery 5.7 environment) and once by the
// action's PGMQ plane, each on a queue of its own with a queue_name_prefix; the queue names kombu
// and the plane derive, and the stored message and headers, must be identical.
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ProbeReport } from '../../src/celery/probe.js'
import { connect } from '../../src/db/database.js'
import { parseDsn } from '../../src/db/dsn.js'
import { pgmqPlane } from '../../src/planes/pgmq.js'
import { EXAMPLE_APP, pythonFor } from '../support/action.js'
import { exampleDatabase } from '../support/example.js'
import { installPgmq } from '../support/pgmq.js'
import { TestPostgres } from '../support/postgres.js'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

/** kombu's transport declares `queue` and puts a Celery-shaped message on it; prints the message as JSON. */
const KOMBU_PUT = `
import json, sys
from kombu import Connection
url, queue, prefix = sys.argv[1:4]
with Connection('memory://') as memory:
    message = memory.default_channel.prepare_message(
        'W1tdLCB7fSwgeyJjYWxsYmFja3MiOiBudWxsfV0=', 0, 'application/json', 'utf-8',
        {'lang': 'py', 'task': 'celery.ping', 'id': 't-1', 'retries': 0, 'timelimit': [None, None], 'eta': None},
        {'correlation_id': 't-1', 'reply_to': 'r-1', 'delivery_mode': 2,
         'delivery_info': {'exchange': '', 'routing_key': queue}, 'priority': 0, 'body_encoding': 'base64',
         'delivery_tag': 'd-1', 'MessageGroupId': 'tenant-7'})
with Connection(url, transport_options={'init_extension': False, 'queue_name_prefix': prefix}) as conn:
    channel = conn.default_channel
    channel._new_queue(queue)
    channel._put(queue, message)
print(json.dumps(message))
`

describe("the PGMQ plane publishes as kombu's transport does", () => {
  it('same queue naming (prefix, punctuation), same message, same headers', async () => {
    const db = await exampleDatabase(pg)
    await installPgmq(pg, db.database)
    await pg.applySqlFile(db.database, `${process.cwd()}/examples/tenant-app/sql/variants/pgmq.sql`, {
      owner_role: db.ownerRole,
      app_role: db.appRole,
      app_password: db.password
    })
    const prefix = 'gate-'
    const run = await execa(pythonFor('5.7'), ['-c', KOMBU_PUT, db.url.replace(/^postgresql:/, 'pgmq:'), 'by.kombu', prefix], { cwd: EXAMPLE_APP })
    const payload = run.stdout.trim()

    const conn = await connect(parseDsn(db.url)!)
    try {
      const probe = { broker: { pgmq: { queue_name_prefix: prefix, init_extension: false } } } as unknown as ProbeReport
      const sent = await pgmqPlane.publish(conn, probe, ['by.action'], [{ queue: 'by.action', payload }])
      expect(sent).toEqual([{ queue: 'gate_by_action', id: 1 }])
    } finally {
      await conn.close()
    }
    const queues = await pg.query(db.database, 'SELECT queue_name::text AS q FROM pgmq.meta ORDER BY 1')
    expect(queues.map((r) => r.q)).toEqual(['gate_by_action', 'gate_by_kombu'])
    const [row] = await pg.query(
      db.database,
      `SELECT k.message = a.message AS same_message, k.headers = a.headers AS same_headers, a.headers ->> 'MessageGroupId' AS group_id,
              a.headers ->> 'task' AS task, k.vt <= now() AND a.vt <= now() AS visible
         FROM pgmq.q_gate_by_kombu k, pgmq.q_gate_by_action a`
    )
    expect(row).toEqual({ same_message: true, same_headers: true, group_id: 'tenant-7', task: 'celery.ping', visible: true })
  })

  it('leaves partitioned queues to kombu: not declared as plain queues, no ping sent before the worker declares them', async () => {
    const db = await exampleDatabase(pg)
    await installPgmq(pg, db.database)
    await pg.applySqlFile(db.database, `${process.cwd()}/examples/tenant-app/sql/variants/pgmq.sql`, {
      owner_role: db.ownerRole,
      app_role: db.appRole,
      app_password: db.password
    })
    const payload = JSON.stringify({ body: 'W10=', headers: { id: 't-2', task: 'celery.ping' }, properties: {} })
    const probe = { broker: { pgmq: { queue_name_prefix: '', init_extension: false, partitioned_queues: ['big'] } } } as unknown as ProbeReport
    const conn = await connect(parseDsn(db.url)!)
    try {
      const sent = await pgmqPlane.publish(
        conn,
        probe,
        ['big', 'small'],
        [
          { queue: 'big', payload },
          { queue: 'small', payload }
        ]
      )
      expect(sent).toEqual([{ queue: 'small', id: 1 }])
    } finally {
      await conn.close()
    }
    const queues = await pg.query(db.database, 'SELECT queue_name::text AS q FROM pgmq.meta ORDER BY 1')
    expect(queues.map((r) => r.q)).toEqual(['small'])
  })
})
