// The privileges a Celery worker's role needs on kombu's sqla broker tables and Celery's result
// tables: ONE list, read by the db-access gate (what it checks), the `sql` command (the grants it
// prints) and scripts/write-privileges-table.ts (README's table, between its markers). The list
// is the minimal set verified against a real worker (shared/docs/celery-on-postgres.md §1.3);
// DELETE is listed apart, as optional: the worker never deletes, `celery purge` and this tool's
// clean-up of its own probe rows do.
import { qualified, quoteIdent } from './database.js'
import type { PrivilegeNeed } from './catalog.js'

/** The four objects by their part: kombu's queue and message tables, Celery's task and group result tables. */
export type TablePart = 'queue' | 'message' | 'task' | 'group'

export interface PrivilegeRule {
  part: TablePart
  kind: 'table' | 'sequence'
  privilege: string
  /** Alternative privilege that also suffices (nextval needs USAGE or UPDATE). */
  orPrivilege?: string
  why: string
  /** Not needed by the worker: granted by the `sql` command, not checked by db-access. */
  optional?: boolean
}

/** The parts whose privileges the broker URL's role needs (the others: the result backend's role). */
export const BROKER_PARTS: readonly TablePart[] = ['queue', 'message']

export const PRIVILEGE_RULES: readonly PrivilegeRule[] = [
  { part: 'queue', kind: 'table', privilege: 'SELECT', why: 'the worker looks up its queues' },
  { part: 'queue', kind: 'table', privilege: 'INSERT', why: 'the worker declares new queues' },
  { part: 'message', kind: 'table', privilege: 'SELECT', why: 'the worker polls for messages' },
  { part: 'message', kind: 'table', privilege: 'INSERT', why: 'tasks are published' },
  { part: 'message', kind: 'table', privilege: 'UPDATE', why: 'the worker takes messages (SELECT … FOR UPDATE, visible=false)' },
  { part: 'queue', kind: 'sequence', privilege: 'USAGE', orPrivilege: 'UPDATE', why: 'new queue rows take their id from it' },
  { part: 'message', kind: 'sequence', privilege: 'USAGE', orPrivilege: 'UPDATE', why: 'new messages take their id from it' },
  { part: 'task', kind: 'table', privilege: 'SELECT', why: 'results are read back' },
  { part: 'task', kind: 'table', privilege: 'INSERT', why: 'the worker stores results' },
  { part: 'task', kind: 'table', privilege: 'UPDATE', why: 'the worker stores the final state' },
  { part: 'group', kind: 'table', privilege: 'SELECT', why: 'group results are read back' },
  { part: 'group', kind: 'table', privilege: 'INSERT', why: 'group results are stored' },
  { part: 'task', kind: 'sequence', privilege: 'USAGE', orPrivilege: 'UPDATE', why: 'result rows take their id from it' },
  { part: 'group', kind: 'sequence', privilege: 'USAGE', orPrivilege: 'UPDATE', why: 'group result rows take their id from it' },
  { part: 'queue', kind: 'table', privilege: 'DELETE', why: "`celery purge`, and the clean-up of this tool's probe queue", optional: true },
  { part: 'message', kind: 'table', privilege: 'DELETE', why: "`celery purge`, and the clean-up of this tool's probe messages", optional: true },
  { part: 'task', kind: 'table', privilege: 'DELETE', why: "`result.forget()`, result expiry, and the clean-up of this tool's ping results", optional: true }
]

/** A table and its sequence, as configured (names from the app, schema from database_table_schemas). */
export interface PartObjects {
  table: string
  schema?: string | null
  sequence: string
  sequenceSchema?: string | null
}

export type PrivilegeObjects = Record<TablePart, PartObjects>

/**
 * The sequences kombu and Celery name explicitly in their models. Celery's `configure` moves its
 * result tables' sequences into the table's schema; kombu's stay in the default schema.
 */
export const DEFAULT_SEQUENCES: Readonly<Record<TablePart, string>> = {
  queue: 'queue_id_sequence',
  message: 'message_id_sequence',
  task: 'task_id_sequence',
  group: 'taskset_id_sequence'
}

/** The objects from the probe's configured table names (sequences at kombu's and Celery's names). */
export function objectsOf(t: {
  queue: string
  message: string
  task: string
  group: string
  task_schema?: string | null
  group_schema?: string | null
}): PrivilegeObjects {
  return {
    queue: { table: t.queue, sequence: DEFAULT_SEQUENCES.queue },
    message: { table: t.message, sequence: DEFAULT_SEQUENCES.message },
    task: { table: t.task, schema: t.task_schema, sequence: DEFAULT_SEQUENCES.task, sequenceSchema: t.task_schema },
    group: { table: t.group, schema: t.group_schema, sequence: DEFAULT_SEQUENCES.group, sequenceSchema: t.group_schema }
  }
}

const named = (name: string, schema?: string | null) => ({ object: schema ? `${schema}.${name}` : name, regclass: qualified(name, schema) })

/** What db-access checks: every rule that is not optional, one privilege per check. */
export function privilegeNeeds(objects: PrivilegeObjects, roles: { broker: string; results: string }): PrivilegeNeed[] {
  return PRIVILEGE_RULES.filter((r) => !r.optional).map((r) => {
    const o = objects[r.part]
    const target = r.kind === 'table' ? named(o.table, o.schema) : named(o.sequence, o.sequenceSchema)
    return {
      kind: r.kind,
      ...target,
      role: BROKER_PARTS.includes(r.part) ? roles.broker : roles.results,
      privilege: r.privilege,
      ...(r.orPrivilege ? { orPrivilege: r.orPrivilege } : {}),
      why: r.why
    }
  })
}

/**
 * GRANT statements for `role` on the given parts (only those present: no result tables for
 * another backend), one per object, the required privileges first and the optional ones apart.
 */
export function grantStatements(objects: Partial<PrivilegeObjects>, role: string, opts: { optional: boolean }): string[] {
  const byObject = new Map<string, string[]>()
  for (const r of PRIVILEGE_RULES) {
    const o = objects[r.part]
    if (!o || !!r.optional !== opts.optional) continue
    const target = r.kind === 'table' ? qualified(o.table, o.schema) : `SEQUENCE ${qualified(o.sequence, o.sequenceSchema)}`
    const list = byObject.get(target) ?? []
    if (!list.includes(r.privilege)) list.push(r.privilege)
    byObject.set(target, list)
  }
  return [...byObject].map(([target, privileges]) => `GRANT ${privileges.join(', ')} ON ${target} TO ${quoteIdent(role)};`)
}

const PART_LABEL: Readonly<Record<TablePart, string>> = {
  queue: '`kombu_queue`',
  message: '`kombu_message`',
  task: '`celery_taskmeta`',
  group: '`celery_tasksetmeta`'
}

/** README's privilege table (between `<!-- privileges:start -->` and `<!-- privileges:end -->`). */
export function privilegeTableMarkdown(): string {
  const rows = PRIVILEGE_RULES.map((r) => {
    const object = r.kind === 'table' ? PART_LABEL[r.part] : `\`${DEFAULT_SEQUENCES[r.part]}\` (sequence)`
    const privilege = `\`${r.privilege}\`${r.orPrivilege ? ` (or \`${r.orPrivilege}\`)` : ''}`
    return `| ${object} | ${privilege} | ${r.optional ? 'optional' : 'required'} | ${r.why} |`
  })
  return ['| Object | Privilege | Worker | Why |', '| --- | --- | --- | --- |', ...rows].join('\n')
}
