// What the worker's role needs on PGMQ for kombu's pgmq:// transport (kombu 5.7, PGMQ 1.13), as
// data: each need with the kombu/PGMQ call that makes it necessary. Found in kombu's
// kombu/transport/pgmq.py and PGMQ's pgmq.sql, and proven by real workers with one privilege
// revoked at a time (test/integration/pgmq-privileges.test.ts; /work/notes/pgmqdb.md). PGMQ's
// functions are SECURITY INVOKER: a function's own statements run with the caller's privileges,
// so the worker needs the tables they touch, and EXECUTE on each function the chain calls.
import { PGMQ_MAX_QUEUE_NAME } from '../planes/envelope.js'
import { quoteIdent } from '../util/quote.js'

export const PGMQ_SCHEMA = 'pgmq'
/** pgmq.validate_queue_name: `template_pgmq_q_` (16) + the name must fit PostgreSQL's 63. */

export interface PgmqNeed {
  kind: 'schema' | 'table' | 'function'
  /** As PostgreSQL names it: `pgmq`, `pgmq.meta`, `pgmq.delete(text,bigint)` (a regprocedure). */
  object: string
  privilege: 'USAGE' | 'CREATE' | 'SELECT' | 'INSERT' | 'EXECUTE'
  /** The kombu/PGMQ call that needs it, for people. */
  why: string
  /** What a real worker did without it (kombu 5.7.0, PGMQ 1.13.0), when it was proven. */
  without?: string
}

const BOOT = 'the worker exits at boot (CRITICAL Unrecoverable error)'
const fn = (object: string, why: string, without?: string): PgmqNeed => ({
  kind: 'function',
  object,
  privilege: 'EXECUTE',
  why,
  ...(without ? { without } : {})
})

export const PGMQ_NEEDS: readonly PgmqNeed[] = [
  {
    kind: 'schema',
    object: PGMQ_SCHEMA,
    privilege: 'USAGE',
    why: "every PGMQ function and table lives in it (kombu's first call on connect is pgmq.list_queues())",
    without: `${BOOT}: permission denied for schema pgmq`
  },
  {
    kind: 'schema',
    object: PGMQ_SCHEMA,
    privilege: 'CREATE',
    why: 'kombu calls pgmq.create() for every queue it declares, existing or not; it runs CREATE TABLE IF NOT EXISTS pgmq.q_<queue>/a_<queue>, which PostgreSQL checks against the schema first',
    without: `${BOOT}: permission denied for schema pgmq (even when the queue tables exist)`
  },
  {
    kind: 'table',
    object: 'pgmq.meta',
    privilege: 'SELECT',
    why: 'pgmq.list_queues() reads it on connect',
    without: `${BOOT}: permission denied for table meta`
  },
  {
    kind: 'table',
    object: 'pgmq.meta',
    privilege: 'INSERT',
    why: 'pgmq.create() registers each queue in it',
    without: `${BOOT}: permission denied for table meta`
  },
  {
    kind: 'table',
    object: 'pgmq.topic_bindings',
    privilege: 'SELECT',
    why: "pgmq.bind_topic() binds the worker's pidbox queue to its fanout exchange with INSERT … ON CONFLICT, which needs SELECT",
    without: `${BOOT}: permission denied for table topic_bindings`
  },
  {
    kind: 'table',
    object: 'pgmq.topic_bindings',
    privilege: 'INSERT',
    why: "pgmq.bind_topic() binds the worker's pidbox queue to its fanout exchange",
    without: `${BOOT}: permission denied for table topic_bindings`
  },
  fn('pgmq.list_queues()', 'kombu lists the queues on connect and to check a queue exists'),
  fn('pgmq."create"(text)', 'kombu declares each queue it consumes'),
  fn('pgmq.create_non_partitioned(text)', 'called by pgmq.create()'),
  fn('pgmq.validate_queue_name(text)', 'called by pgmq.create()'),
  fn('pgmq.acquire_queue_lock(text)', 'called by pgmq.create()'),
  fn('pgmq.format_table_name(text,text)', 'called by every PGMQ function that names a queue table'),
  fn('pgmq.bind_topic(text,text)', "binds the worker's pidbox queue to its fanout exchange"),
  fn('pgmq.validate_topic_pattern(text)', 'called by pgmq.bind_topic()'),
  fn('pgmq.read_with_poll(text,integer,integer,integer,integer,jsonb)', 'the worker reads its queues (long poll, wait_time_seconds)'),
  fn('pgmq.pop(text,integer)', 'the worker reads its pidbox queue (no_ack)'),
  fn(
    'pgmq.delete(text,bigint)',
    'the worker acknowledges a message by deleting it',
    'the ack fails (ERROR … permission denied for function delete) and the message comes back after visibility_timeout'
  ),
  fn('pgmq.metrics(text)', 'kombu sizes a queue when it declares it'),
  fn('pgmq.send(text,jsonb,jsonb)', 'kombu publishes with headers (tasks sent from tasks, retries, control replies)'),
  fn('pgmq.send(text,jsonb,jsonb,timestamp with time zone)', 'called by every pgmq.send() overload'),
  fn('pgmq.set_vt(text,bigint,integer)', 'kombu requeues a rejected message and restores unacknowledged ones at shutdown'),
  fn('pgmq.set_vt(text,bigint,timestamp with time zone)', 'called by pgmq.set_vt(text,bigint,integer)')
]

/** The statement that grants `need` to `role` (an identifier, quoted here). */
export function grantFor(need: PgmqNeed, role: string): string {
  const on = need.kind === 'schema' ? `SCHEMA ${need.object}` : need.kind === 'function' ? `FUNCTION ${need.object}` : need.object
  return `GRANT ${need.privilege} ON ${on} TO ${quoteIdent(role)}`
}

/** The two tables pgmq.create() makes for a queue: messages (q_) and archive (a_), lower-cased. */
export function queueTables(pgmqName: string): { queue: string; archive: string } {
  return { queue: `q_${pgmqName}`.toLowerCase(), archive: `a_${pgmqName}`.toLowerCase() }
}

/** Why PGMQ refuses a queue name (pgmq.validate_queue_name / format_table_name), or undefined. */
export function queueNameProblem(pgmqName: string): string | undefined {
  if (pgmqName.length > PGMQ_MAX_QUEUE_NAME) return `longer than PGMQ's ${PGMQ_MAX_QUEUE_NAME} characters (${pgmqName.length})`
  return undefined
}

/**
 * The PGMQ part of the `sql` command's script: a guard that PGMQ is installed, then the worker's
 * grants (privileges on one object in one GRANT), each group with its why. PGMQ's functions are
 * EXECUTE for PUBLIC as installed; their GRANTs matter where an owner revoked that.
 */
export function pgmqGrantScript(role: string): string[] {
  const out = [
    "-- Broker: PGMQ (kombu's pgmq:// transport). The worker's role needs these (the db-access gate checks",
    '-- each). It creates and owns its queue tables (q_<queue>, a_<queue>) itself at boot: a queue another',
    '-- role declared first kills it ("must be owner of table q_…"). init_extension must be off unless PGMQ',
    '-- is installed as the extension: broker_transport_options={"init_extension": False}.',
    "DO $$ BEGIN IF to_regnamespace('pgmq') IS NULL THEN RAISE EXCEPTION 'PGMQ is not installed (no schema pgmq): run CREATE EXTENSION pgmq or the pgmq package''s SQL install first'; END IF; END $$;"
  ]
  const grouped = new Map<string, PgmqNeed[]>()
  for (const need of PGMQ_NEEDS) {
    const key = `${need.kind} ${need.object}`
    grouped.set(key, [...(grouped.get(key) ?? []), need])
  }
  let functions = false
  for (const needs of grouped.values()) {
    const first = needs[0] as PgmqNeed
    if (first.kind === 'function' && !functions) {
      functions = true
      out.push("-- PGMQ functions kombu calls (EXECUTE is PUBLIC's as installed; needed where it was revoked).")
    }
    if (first.kind !== 'function') out.push(...needs.map((n) => `-- ${n.privilege} on ${n.object}: ${n.why}`))
    out.push(grantFor({ ...first, privilege: needs.map((n) => n.privilege).join(', ') as PgmqNeed['privilege'] }, role) + ';')
  }
  return out
}

/**
 * README's PGMQ privilege table: one row per schema or table privilege, PGMQ's functions in one
 * row (EXECUTE, PUBLIC's as PGMQ installs them), and the queue tables the worker must own.
 */
export function pgmqPrivilegeTableMarkdown(): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|')
  const rows = PGMQ_NEEDS.filter((n) => n.kind !== 'function').map(
    (n) => `| ${n.kind === 'schema' ? `schema \`${n.object}\`` : `\`${n.object}\``} | \`${n.privilege}\` | ${cell(n.why)} |`
  )
  const functions = PGMQ_NEEDS.filter((n) => n.kind === 'function').map((n) => `\`${n.object.replace(/^pgmq\./, '')}\``)
  rows.push(
    '| `pgmq.q_<queue>`, `pgmq.a_<queue>` | owner (or a member of the owner), or absent | kombu runs `pgmq.create()` for every queue it declares, existing or not; its `CREATE INDEX IF NOT EXISTS` needs the owner — a queue another role declared first kills the worker at boot (`must be owner of table q_…`) |',
    `| PGMQ's functions | \`EXECUTE\` | PUBLIC's as PGMQ installs them; needed where an owner revoked that: ${functions.join(', ')} |`
  )
  return ['| Object | Privilege | Why |', '| --- | --- | --- |', ...rows].join('\n')
}
