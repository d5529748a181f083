// kombu 5.7's PGMQ transport (pgmq://): each queue is a pair of tables in PGMQ's schema
// (pgmq.q_<queue>, pgmq.a_<queue>) listed in pgmq.meta, declared by pgmq.create() and written by
// pgmq.send(). The run publishes exactly as kombu/transport/pgmq.py does (envelope.ts), on a queue
// of its own that it declares first AS THE WORKER'S ROLE (the broker DSN): kombu calls
// pgmq.create() for every queue it declares, and its CREATE INDEX IF NOT EXISTS fails on tables
// another role owns, so the worker must own its queue tables — a queue the action created under
// another role would kill the worker at boot. pgmq.create() takes an advisory lock per queue, so
// concurrent runs declaring the app's queues do not race the way kombu's sqla get-or-create does.
import { pgmqBootProblems } from './pgmq-boot.js'
import { qualified, type Database } from '../db/database.js'
import type { DsnParts } from '../db/dsn.js'
import type { ProbeReport } from '../celery/probe.js'
import { PGMQ_MAX_QUEUE_NAME, pgmqQueueName, pgmqSendArgs, pidboxQueue } from './envelope.js'
import { runCleanupSteps, type BrokerPlane, type CleanupStep, type Outgoing, type RunNames, type RunTrace, type Sent, type TraceCleanup } from './plane.js'

/** The options of kombu's transport the run needs (bootstrap.py reports them, pgmq_probe.py). */
function prefixOf(probe: ProbeReport): string {
  return probe.broker.pgmq?.queue_name_prefix ?? ''
}

const nameOf = (probe: ProbeReport, queue: string): string => pgmqQueueName(prefixOf(probe), queue)

/**
 * PGMQ's schema is there (extension or SQL-only install). A PGMQ too old for kombu's calls (no
 * `pgmq.send` with headers) then fails the publish with PostgreSQL's own `function … does not
 * exist`, which the run reports, rather than a wait for the worker.
 */
async function ready(db: Database): Promise<boolean> {
  const [row] = await db.query<{ meta: string | null }>("SELECT to_regclass('pgmq.meta')::text AS meta")
  return !!row?.meta
}

async function queueExists(db: Database, probe: ProbeReport, queue: string): Promise<boolean> {
  if (!(await ready(db))) return false
  return (await db.query('SELECT 1 FROM pgmq.meta WHERE queue_name = $1', [nameOf(probe, queue)])).length > 0
}

/**
 * Declares every queue the worker will consume (pgmq.create, as kombu's _new_queue does; a no-op
 * for one that exists) and sends the messages with kombu's own arguments (its _put): the message
 * as JSONB, its headers as PGMQ headers, a delay only when the message asks for one.
 */
async function publish(db: Database, probe: ProbeReport, queues: string[], messages: Outgoing[]): Promise<Sent[]> {
  // A partitioned queue is kombu's to create (pgmq.create_partitioned_queue): declared here as a
  // plain queue it would stay one. A ping for one the worker has not declared yet is not sent.
  const partitioned = new Set(probe.broker.pgmq?.partitioned_queues ?? [])
  const names = [...new Set([...queues, ...messages.map((m) => m.queue)])].filter((q) => !partitioned.has(q)).map((q) => nameOf(probe, q))
  await db.query('BEGIN')
  try {
    for (const name of names) await db.query('SELECT pgmq.create($1::text)', [name])
    const sent: Sent[] = []
    for (const msg of messages) {
      if (partitioned.has(msg.queue) && !(await db.query('SELECT 1 FROM pgmq.meta WHERE queue_name = $1', [nameOf(probe, msg.queue)])).length) continue
      const queue = nameOf(probe, msg.queue)
      const args = pgmqSendArgs(msg.payload)
      const rows = await db.query<{ id: string }>(
        `SELECT * FROM pgmq.send(queue_name => $1::text, msg => $2::jsonb${args.headers !== undefined ? ', headers => $3::jsonb' : ''}${
          args.delay !== undefined ? `, delay => $${args.headers !== undefined ? 4 : 3}::integer` : ''
        }) AS id`,
        [queue, msg.payload, ...(args.headers !== undefined ? [args.headers] : []), ...(args.delay !== undefined ? [args.delay] : [])]
      )
      sent.push(...rows.map((r) => ({ queue, id: Number(r.id) })))
    }
    await db.query('COMMIT')
    return sent
  } catch (err) {
    await db.query('ROLLBACK').catch(() => {})
    throw err
  }
}

/**
 * Removes the run's queue and the worker's pidbox queue (pgmq.drop_queue: both tables and their
 * pgmq.meta row; the pidbox queue's fanout binding goes with it), the pings it left in the app's
 * queues (by message id, never another message), its result rows and the probe's dead letter.
 */
async function removeTrace(db: Database, trace: RunTrace, opts: { keepQueue?: boolean } = {}): Promise<TraceCleanup> {
  const probe = trace.probe
  const own = [nameOf(probe, trace.queue), pidboxQueue(prefixOf(probe), trace.nodeName)]
  const byQueue = new Map<string, number[]>()
  for (const m of trace.sent) if (!own.includes(m.queue)) byQueue.set(m.queue, [...(byQueue.get(m.queue) ?? []), m.id])
  const steps: CleanupStep[] = [
    ...[...byQueue].map(([queue, ids]): CleanupStep => [
      `pings in ${queue}`,
      // Only when the queue still exists (pgmq.delete raises on a missing one).
      'SELECT pgmq.delete($1::text, $2::bigint[]) FROM pgmq.meta WHERE queue_name = $1',
      [queue, ids]
    ]),
    // A kept worker still consumes the run's queue and answers on its pidbox.
    ...(opts.keepQueue
      ? []
      : own.map((queue): CleanupStep => [`queue ${queue}`, 'SELECT pgmq.drop_queue(queue_name) FROM pgmq.meta WHERE queue_name = $1', [queue]])),
    ['result rows', `DELETE FROM ${qualified(probe.tables.task, probe.tables.task_schema)} WHERE task_id = ANY($1::text[])`, [trace.taskIds]]
  ]
  const dlq = trace.deadLetter
  if (dlq) steps.push(['dead-letter row', `DELETE FROM ${dlq.table} t WHERE strpos(to_jsonb(t)::text, $1) > 0`, [dlq.taskId]])
  if (!opts.keepQueue && trace.applicationName) await cancelLingeringPolls(db, trace.applicationName)
  // 42P01 / 3F000: the table or PGMQ's schema never came to exist: nothing to remove.
  const { removed, left } = await runCleanupSteps(db, steps, {
    absent: ['42P01', '3F000'],
    denied: (message) => `${db.role} may not: ${message ?? 'permission denied'}`,
    ...(dlq ? { deadLetterTaskId: dlq.taskId } : {})
  })
  if (!left.length) {
    const dead = removed.includes('dead-letter row') ? ", the probe task's dead-letter row" : ''
    const detail = opts.keepQueue
      ? `removed the run's pings${dead} and result rows; queue ${own[0]} and pidbox queue ${own[1]} stay while the kept worker consumes them`
      : `removed the run's PGMQ queue ${own[0]}, the worker's pidbox queue ${own[1]}${dead} and the result rows`
    return { removed: true, detail }
  }
  const done = removed.length ? `removed ${removed.join(', ')}; ` : ''
  return { removed: false, detail: `${done}left in the database: ${left.join(', ')}` }
}

/**
 * A worker killed during a long poll leaves its `pgmq.read_with_poll` running on the server for up
 * to wait_time_seconds, holding a lock on the queue's table that pgmq.drop_queue must wait for
 * (longer than the action's lock_timeout). Once the worker is stopped, the run's own sessions (its
 * application_name, the worker's role) still busy are cancelled; nobody else's.
 */
async function cancelLingeringPolls(db: Database, applicationName: string): Promise<void> {
  await db
    .query(
      `SELECT pg_cancel_backend(pid) FROM pg_stat_activity
        WHERE application_name = $1 AND state = 'active' AND pid <> pg_backend_pid() AND datname = current_database()`,
      [applicationName]
    )
    .catch(() => {})
}

/** The PGMQ found in the database: an extension records its version, a SQL-only install none. */
async function evidence(open: () => Promise<Database>, probe: ProbeReport, names: RunNames): Promise<{ lines: string[]; problems: string[] }> {
  const info = probe.broker.pgmq
  const lines = [`data plane: kombu's PGMQ transport${probe.versions.kombu ? ` (kombu ${probe.versions.kombu})` : ''}`]
  const problems: string[] = []
  try {
    // Asked as the worker's role (the connection is the broker URL's): what its boot will meet.
    const db = await open()
    const consumed = probe.consumed_queues ?? probe.default_consumed_queues ?? []
    const boot = await pgmqBootProblems(db, info, db.role, { consumed: [...consumed, names.queue], nodeName: names.nodeName, perRun: [names.queue] })
    lines.push(...boot.lines)
    problems.push(...boot.problems)
  } catch (err) {
    lines.push(`PGMQ not checked in the database: ${(err as Error).message}`)
  }
  if (info) lines.push(`visibility timeout ${info.visibility_timeout ?? 1800} s: a message read and not acknowledged comes back after it`)
  return { lines, problems }
}

/**
 * The names the worker will declare, each within PGMQ's 47 characters (pgmq.validate_queue_name:
 * a longer one kills the worker at boot), and a transport that loads.
 */
function probeProblems(probe: ProbeReport, names?: RunNames): string[] {
  const problems: string[] = []
  const error = probe.broker.transport_error
  if (error)
    problems.push(
      /No such transport/.test(error)
        ? `broker is pgmq://, which kombu ${probe.versions.kombu ?? ''} cannot load (${error}): kombu's PGMQ transport needs kombu 5.7 or later`
        : `kombu's PGMQ transport cannot load: ${error}${/pip install/.test(error) ? '' : ' (pip install "kombu[pgmq]")'}`
    )
  const prefix = prefixOf(probe)
  const queues = [...new Set([...(probe.consumed_queues ?? []), ...(names ? [names.queue] : [])])].map((q) => pgmqQueueName(prefix, q))
  if (names) queues.push(pidboxQueue(prefix, names.nodeName))
  for (const q of queues)
    if (q.length > PGMQ_MAX_QUEUE_NAME)
      problems.push(
        `PGMQ queue name ${q} is ${q.length} characters, over PGMQ's ${PGMQ_MAX_QUEUE_NAME}: the worker would die declaring it (queue name is too long)${
          prefix ? `; queue_name_prefix '${prefix}' counts too` : ''
        }`
      )
  return problems
}

/**
 * kombu's PGMQ transport does not leave gaps to libpq: it connects as `postgres` to database
 * `postgres` on localhost:5432 unless the URL says otherwise (Transport._create_pgmq_client), so
 * the action connects the same way. `conn_string` replaces the URL altogether.
 */
function resolve(parts: DsnParts, probe: ProbeReport): { parts: DsnParts; notes: string[] } {
  const database = parts.database && parts.database !== '/' ? parts.database.replace(/^\//, '') : 'postgres'
  const filled: DsnParts = {
    ...parts,
    host: parts.host || 'localhost',
    port: parts.port ?? 5432,
    database,
    username: parts.username || 'postgres',
    password: parts.password ?? ''
  }
  const notes = probe.broker.pgmq?.conn_string
    ? ["broker_transport_options sets conn_string, which the worker connects with instead of the broker URL: the action's checks use the URL"]
    : []
  return { parts: filled, notes }
}

function ownsObject(object: string, probe: ProbeReport): boolean {
  const t = probe.tables
  const [schema, name] = object.includes('.') ? object.split('.', 2) : [undefined, object]
  if (schema === 'pgmq' || object === 'pgmq') return true
  return ['meta', 'topic_bindings', t.task, t.group, 'task_id_sequence', 'taskset_id_sequence', 'public'].includes(name ?? '') || /^[qa]_\w+$/.test(name ?? '')
}

export const pgmqPlane: BrokerPlane = {
  kind: 'pgmq',
  label: "kombu's PGMQ transport",
  recognises: (parts: DsnParts) => !parts.prefix && parts.scheme === 'pgmq',
  probeProblems,
  resolve,
  queueName: nameOf,
  ready: (db) => ready(db),
  queueExists,
  publish,
  removeTrace,
  evidence,
  ownsObject,
  // Quoted: kombu keeps a queue name's non-punctuation characters (a space), which to_regclass
  // would otherwise not find (and then no lock holder is named).
  lockedTables: (probe, queues) => ['pgmq.meta', ...queues.map((q) => qualified(`q_${nameOf(probe, q).toLowerCase()}`, 'pgmq'))]
}
