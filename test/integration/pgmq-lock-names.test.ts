// The PGMQ plane's table names for the lock explanation (planes/pgmq.ts lockedTables), read by
// to_regclass on a real PostgreSQL: kombu maps punctuation to '_' but keeps other characters (a
// space, say), and PGMQ creates q_<queue> with format('%I'), so the name must reach to_regclass
// quoted — unquoted, to_regclass finds no table and a lock timeout's explanation says no session
// holds a blocking lock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ProbeReport } from '../../src/celery/probe.js'
import { pgmqPlane } from '../../src/planes/pgmq.js'
import { TestPostgres } from '../support/postgres.js'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
  await pg.query('postgres', 'CREATE SCHEMA pgmq; CREATE TABLE pgmq.meta (queue_name text); CREATE TABLE pgmq."q_my queue" (msg_id bigint)')
})
afterAll(async () => {
  await pg?.destroy()
})

describe('pgmqPlane.lockedTables', () => {
  it('names each queue table as to_regclass finds it, whatever characters kombu kept', async () => {
    const probe = { broker: { pgmq: { queue_name_prefix: '' } } } as unknown as ProbeReport
    const tables = pgmqPlane.lockedTables(probe, ['My Queue'])
    const rows = await pg.query('postgres', 'SELECT to_regclass(t)::text AS found FROM unnest($1::text[]) AS t', [tables])
    expect(rows.map((r) => (r as { found: string | null }).found)).toEqual(['pgmq.meta', 'pgmq."q_my queue"'])
  })
})
