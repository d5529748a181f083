// Putting messages into kombu's SQLAlchemy broker tables exactly as its transport does: the
// payload Celery built (bootstrap.py), a row in the queue table for each queue, no column left to
// a default. Queue rows for every queue the worker will consume are created before it starts:
// kombu's get-or-create is not atomic, and a worker that loses that race to a concurrent insert
// dies (so with eight runs on one database, someone must create them first, without a race).
import { qualified, type Database } from '../db/database.js'
import type { ProbeReport } from './probe.js'

export type Tables = ProbeReport['tables']

export interface Outgoing {
  queue: string
  payload: string
}

export async function brokerTablesExist(db: Database, tables: Tables): Promise<boolean> {
  const [row] = await db.query<{ q: string | null; m: string | null }>('SELECT to_regclass($1)::text AS q, to_regclass($2)::text AS m', [
    qualified(tables.queue),
    qualified(tables.message)
  ])
  return !!row?.q && !!row.m
}

export async function queueExists(db: Database, tables: Tables, queue: string): Promise<boolean> {
  if (!(await brokerTablesExist(db, tables))) return false
  return (await db.query(`SELECT 1 FROM ${qualified(tables.queue)} WHERE name = $1`, [queue])).length > 0
}

/**
 * In one transaction: a queue row for each of `queues` that lacks one, then the messages.
 * Returns the message ids (what the run leaves in the broker table, removed afterwards).
 */
export async function publish(db: Database, tables: Tables, queues: string[], messages: Outgoing[]): Promise<number[]> {
  const q = qualified(tables.queue)
  const m = qualified(tables.message)
  await db.query('BEGIN')
  try {
    const names = [...new Set([...queues, ...messages.map((x) => x.queue)])]
    // Runs sharing a database create the app's queue rows concurrently: ON CONFLICT makes the
    // second wait for the first and do nothing. It needs the UNIQUE(name) kombu creates; where a
    // migration left it out, NOT EXISTS is the best available.
    await db.query('SAVEPOINT queues')
    try {
      await db.query(
        `INSERT INTO ${q} (id, name) SELECT nextval('queue_id_sequence'), n FROM unnest($1::text[]) AS n
         WHERE NOT EXISTS (SELECT 1 FROM ${q} WHERE name = n) ON CONFLICT (name) DO NOTHING`,
        [names]
      )
    } catch (err) {
      if ((err as { code?: string }).code !== '42P10') throw err
      await db.query('ROLLBACK TO SAVEPOINT queues')
      await db.query(
        `INSERT INTO ${q} (id, name) SELECT nextval('queue_id_sequence'), n FROM unnest($1::text[]) AS n
         WHERE NOT EXISTS (SELECT 1 FROM ${q} WHERE name = n)`,
        [names]
      )
    }
    const ids: number[] = []
    for (const msg of messages) {
      // No column has a database default; `visible` must be true (NULL is never consumed) and
      // `timestamp` NULL (a non-NULL one would jump the queue), as kombu itself writes them.
      const rows = await db.query<{ id: number }>(
        `INSERT INTO ${m} (id, visible, "timestamp", payload, version, queue_id)
         SELECT nextval('message_id_sequence'), true, NULL, $2::text, 1, id FROM ${q} WHERE name = $1::text
         RETURNING id`,
        [msg.queue, msg.payload]
      )
      ids.push(...rows.map((r) => Number(r.id)))
    }
    await db.query('COMMIT')
    return ids
  } catch (err) {
    await db.query('ROLLBACK').catch(() => {})
    throw err
  }
}
