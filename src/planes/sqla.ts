// kombu's SQLAlchemy transport (sqla+postgresql://): messages put into its broker tables exactly as its transport does: the
// payload Celery built (bootstrap.py), a row in the queue table for each queue, no column left to
// a default. Queue rows for every queue the worker will consume are created before it starts:
// kombu's get-or-create is not atomic, and a worker that loses that race to a concurrent insert
// dies (so with eight runs on one database, someone must create them first, without a race).
// removeTrace undoes it all once the run is over.
import { qualified, type Database } from '../db/database.js'
import { isPostgresScheme, type DsnParts } from '../db/dsn.js'
import type { ProbeReport } from '../celery/probe.js'
import { runCleanupSteps, type BrokerPlane, type CleanupStep, type Outgoing, type RunTrace, type Sent, type TraceCleanup } from './plane.js'

export type Tables = ProbeReport['tables']

export async function brokerTablesExist(db: Database, tables: Tables): Promise<boolean> {
  const [row] = await db.query<{ q: string | null; m: string | null }>('SELECT to_regclass($1)::text AS q, to_regclass($2)::text AS m', [
    qualified(tables.queue),
    qualified(tables.message)
  ])
  return !!row?.q && !!row.m
}

async function queueExists(db: Database, tables: Tables, queue: string): Promise<boolean> {
  if (!(await brokerTablesExist(db, tables))) return false
  return (await db.query(`SELECT 1 FROM ${qualified(tables.queue)} WHERE name = $1`, [queue])).length > 0
}

/**
 * In one transaction: a queue row for each of `queues` that lacks one, then the messages.
 * Returns the messages by id (what the run leaves in the broker table, removed afterwards).
 */
async function publish(db: Database, tables: Tables, queues: string[], messages: Outgoing[]): Promise<Sent[]> {
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
    const ids: Sent[] = []
    for (const msg of messages) {
      // No column has a database default; `visible` must be true (NULL is never consumed) and
      // `timestamp` NULL (a non-NULL one would jump the queue), as kombu itself writes them.
      const rows = await db.query<{ id: number }>(
        `INSERT INTO ${m} (id, visible, "timestamp", payload, version, queue_id)
         SELECT nextval('message_id_sequence'), true, NULL, $2::text, 1, id FROM ${q} WHERE name = $1::text
         RETURNING id`,
        [msg.queue, msg.payload]
      )
      ids.push(...rows.map((r) => ({ queue: msg.queue, id: Number(r.id) })))
    }
    await db.query('COMMIT')
    return ids
  } catch (err) {
    await db.query('ROLLBACK').catch(() => {})
    throw err
  }
}

/** What one run published (see publish) and what its worker stored because of it. */
interface SqlaTrace {
  tables: Tables
  /** The run's own queue: its row, and every message in it (a copy a warm shutdown restored too). */
  queue: string
  /** The messages the run put into the app's queues, by id. */
  messageIds: number[]
  /** The result rows of the run's ping, its queue pings and its dlq probe task. */
  taskIds: string[]
  /** The dead-letter table as PostgreSQL resolved it, and the probe task whose row it holds. */
  deadLetter?: { table: string; taskId: string }
}

/**
 * Undoes publish: deletes the run's message rows, queue row (unless `keepQueue`: a kept worker
 * still polls it), result rows and the probe's dead-letter row — a bounded, known trace, never
 * another message of the app's queues. The detail may quote the database's errors: the caller
 * redacts it.
 */
async function removeTrace(db: Database, trace: SqlaTrace, opts: { keepQueue?: boolean } = {}): Promise<TraceCleanup> {
  const t = trace.tables
  const steps: CleanupStep[] = [
    // The run's own queue (with any copy a warm shutdown restored), and by id the pings it left
    // in the app's queues — never another message of those queues.
    [
      'messages',
      `DELETE FROM ${qualified(t.message)} WHERE queue_id IN (SELECT id FROM ${qualified(t.queue)} WHERE name = $1) OR id = ANY($2::int[])`,
      [trace.queue, trace.messageIds]
    ],
    ...(opts.keepQueue ? [] : [['queue row', `DELETE FROM ${qualified(t.queue)} WHERE name = $1`, [trace.queue]] as CleanupStep]),
    ['result rows', `DELETE FROM ${qualified(t.task, t.task_schema)} WHERE task_id = ANY($1::text[])`, [trace.taskIds]]
  ]
  const dlq = trace.deadLetter
  if (dlq) steps.push(['dead-letter row', `DELETE FROM ${dlq.table} t WHERE strpos(to_jsonb(t)::text, $1) > 0`, [dlq.taskId]])
  // 42P01: the table never came to exist, so there is nothing to remove. A dead-letter table the
  // worker's role may only append to is least privilege working: say which row stays and how to
  // find it, so nobody mistakes it for a real failure.
  const { removed, left } = await runCleanupSteps(db, steps, {
    absent: ['42P01'],
    denied: () => `${db.role} may not delete`,
    ...(dlq ? { deadLetterTaskId: dlq.taskId } : {})
  })

  if (!left.length) {
    // Said as it happened: a kept worker still polls the run's queue, and a probe leaves a dead letter.
    const dead = removed.includes('dead-letter row') ? ", the probe task's dead-letter row" : ''
    const detail = opts.keepQueue
      ? `removed the run's ping message${dead} and result row; queue row ${trace.queue} stays while the kept worker consumes it`
      : `removed the run's ping message, queue row ${trace.queue}${dead} and result row`
    return { removed: true, detail }
  }
  const done = removed.length ? `removed ${removed.join(', ')}; ` : ''
  return { removed: false, detail: `${done}left in the database: ${left.join(', ')}` }
}

/** kombu's own name for this transport's denied objects: its tables, sequences, and schema public. */
function ownsObject(object: string, probe: ProbeReport): boolean {
  const t = probe.tables
  const name = object.split('.').pop() ?? object
  return [t.queue, t.message, t.task, t.group, 'queue_id_sequence', 'message_id_sequence', 'task_id_sequence', 'taskset_id_sequence', 'public'].includes(name)
}

export const sqlaPlane: BrokerPlane = {
  kind: 'sqla',
  label: "kombu's SQLAlchemy transport",
  recognises: (parts: DsnParts) => (parts.prefix === 'sqla' || parts.prefix === 'sqlalchemy') && isPostgresScheme(parts.scheme),
  // Its driver and engine options are checked for every plane (celery/drift.ts).
  probeProblems: () => [],
  // SQLAlchemy's libpq defaults are the action's too (node-postgres reads the same PG* variables).
  resolve: (parts) => ({ parts, notes: [] }),
  queueName: (_probe, queue) => queue,
  ready: (db, probe) => brokerTablesExist(db, probe.tables),
  queueExists: (db, probe, queue) => queueExists(db, probe.tables, queue),
  publish: (db, probe, queues, messages: Outgoing[]) => publish(db, probe.tables, queues, messages),
  removeTrace: (db, trace: RunTrace, opts) =>
    removeTrace(
      db,
      {
        tables: trace.probe.tables,
        queue: trace.queue,
        messageIds: trace.sent.map((m) => m.id),
        taskIds: trace.taskIds,
        ...(trace.deadLetter ? { deadLetter: trace.deadLetter } : {})
      },
      opts
    ),
  // Nothing to ask the database: the tables are kombu's, versioned with kombu.
  evidence: async () => ({ lines: [], problems: [] }),
  ownsObject,
  lockedTables: (probe) => [qualified(probe.tables.message), qualified(probe.tables.queue)]
}
