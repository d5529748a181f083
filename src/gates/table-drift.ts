// The broker and result tables against the models of the installed kombu and Celery (read by
// drift.py from their own code): a column the installed model maps and the table lacks fails
// every read or write of that table, and a role that does not own the table cannot add it, so
// Celery's own attempt at boot ends in a WARNING. The statement the owner must run is named.
import { compareTable, type CatalogColumn } from '../celery/drift.js'
import type { ProbeReport, TableModel } from '../celery/probe.js'
import { qualified, quoteIdent, type Database } from '../db/database.js'

export interface SchemaDrift {
  problems: string[]
  /** Differences that break nothing today (a column the configured classes do not map, a type, an index). */
  warnings: string[]
  /** One line for the evidence when everything matches. */
  summary?: string
  /** Objects (`name`, `schema.name`) whose absence a problem here already explains, with its fix. */
  covered: string[]
}

interface Target {
  what: string
  table: string
  schema?: string | null
  /** Where the model's sequences live: Celery's configure() moves them to the result table's schema. */
  sequenceSchema?: string | null
  model: TableModel
}

function targets(probe: ProbeReport): Target[] {
  const t = probe.tables
  const d = probe.drift
  const celery = `Celery ${probe.versions.celery ?? ''}`.trim()
  const kombu = `kombu ${probe.versions.kombu ?? ''}`.trim()
  const out: Target[] = []
  if (d?.result_tables) {
    out.push({ what: `${celery}'s result model`, table: t.task, schema: t.task_schema, sequenceSchema: t.task_schema, model: d.result_tables.task })
    out.push({ what: `${celery}'s group result model`, table: t.group, schema: t.group_schema, sequenceSchema: t.group_schema, model: d.result_tables.group })
  }
  if (d?.broker_tables?.queue) out.push({ what: `${kombu}'s queue model`, table: t.queue, model: d.broker_tables.queue })
  if (d?.broker_tables?.message) out.push({ what: `${kombu}'s message model`, table: t.message, model: d.broker_tables.message })
  return out
}

/**
 * `workerRoles`: the roles the worker connects as; one of them owning a sequence of a table it
 * does not own is a warning (it could ALTER or DROP what every insert needs).
 */
export async function schemaDrift(db: Database, probe: ProbeReport, workerRoles: readonly string[] = []): Promise<SchemaDrift> {
  const out: SchemaDrift = { problems: [], warnings: [], covered: [] }
  const list = targets(probe)
  if (!list.length) return out
  let compared = 0
  let columns = 0
  for (const target of list) {
    const regclass = qualified(target.table, target.schema)
    const [rel] = await db.query<{ owner: string | null }>('SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = to_regclass($1)', [regclass])
    if (!rel) continue // absent: the privilege check names it
    const catalog = await db.query<CatalogColumn & Record<string, unknown>>(
      `SELECT attname::text AS "column", format_type(atttypid, atttypmod) AS type, NOT attnotnull AS nullable
         FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped LIMIT 2000`,
      [regclass]
    )
    const indexes = new Set(
      (
        await db.query<{ name: string }>(
          'SELECT c.relname::text AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass($1) LIMIT 1000',
          [regclass]
        )
      ).map((r) => r.name)
    )
    compared += 1
    columns += target.model.columns.length
    const drift = compareTable(target.table, target.schema, target.model, catalog)
    const owner = rel.owner ? `the owner (${rel.owner})` : "the table's owner"
    const fix = drift.statements.length ? `: ${owner} runs \`${drift.statements.join('; ')}\`` : ''
    if (drift.missing.length)
      out.problems.push(
        `${target.table} lacks ${drift.missing.map((c) => `\`${c}\``).join(', ')}, which ${target.what} has: every read or write of the table fails (UndefinedColumn)${fix}`
      )
    else if (drift.missingUnused.length)
      out.warnings.push(
        `${target.table} lacks ${drift.missingUnused.map((c) => `\`${c}\``).join(', ')} of ${target.what} (unused with this configuration)${fix}`
      )
    out.warnings.push(...drift.mismatched)
    for (const ix of target.model.indexes)
      if (!indexes.has(ix.name))
        out.warnings.push(
          `${target.table} has no index ${ix.name} (${target.what}): ${owner} runs \`CREATE INDEX ${quoteIdent(ix.name)} ON ${regclass} (${ix.columns.map(quoteIdent).join(', ')})\``
        )
    const haveUnique = await uniqueColumnSets(db, regclass)
    for (const cols of target.model.unique ?? [])
      if (!haveUnique.has(setKey(cols)))
        out.warnings.push(
          `${target.table} has no unique constraint on (${cols.join(', ')}) (${target.what}): concurrent writers can store duplicates; ${owner} runs \`ALTER TABLE ${regclass} ADD UNIQUE (${cols.map(quoteIdent).join(', ')})\``
        )
    await compareSequences(db, target, owner, rel.owner, workerRoles, out)
  }
  if (compared)
    out.summary = `${compared} tables match the installed packages' models (${columns} columns: names, types, nullability; indexes, unique constraints, sequences)`
  return out
}

const setKey = (cols: readonly string[]): string => JSON.stringify([...cols].sort())

/** The column sets of the table's unique constraints and unique indexes (not the primary key). */
async function uniqueColumnSets(db: Database, regclass: string): Promise<Set<string>> {
  const rows = await db.query<{ columns: string[] }>(
    `SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns
       FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = to_regclass($1) AND i.indisunique AND NOT i.indisprimary
      GROUP BY i.indexrelid LIMIT 200`,
    [regclass]
  )
  return new Set(rows.map((r) => setKey(r.columns)))
}

/**
 * The model's named sequences (kombu and Celery give their id columns no DEFAULT: SQLAlchemy calls
 * nextval on the sequence by name, so without it every insert fails): present, a sequence, and
 * not owned by a role the worker connects as.
 */
async function compareSequences(
  db: Database,
  target: Target,
  owner: string,
  tableOwner: string | null,
  workerRoles: readonly string[],
  out: SchemaDrift
): Promise<void> {
  for (const col of target.model.columns) {
    if (!col.sequence) continue
    const schema = col.sequence_schema ?? target.sequenceSchema
    const seq = qualified(col.sequence, schema)
    const [found] = await db.query<{ kind: string; owner: string | null }>(
      'SELECT relkind::text AS kind, pg_get_userbyid(relowner)::text AS owner FROM pg_class WHERE oid = to_regclass($1)',
      [seq]
    )
    if (!found) {
      out.covered.push(schema ? `${schema}.${col.sequence}` : col.sequence)
      out.problems.push(
        `sequence ${col.sequence} does not exist: ${target.what} takes ${target.table}.${col.name} from it (nextval, no DEFAULT), so every insert fails; ${owner} runs \`CREATE SEQUENCE IF NOT EXISTS ${seq}\` and grants USAGE on it to the worker's role`
      )
    } else if (found.kind !== 'S')
      out.problems.push(`${seq} is not a sequence (relkind ${found.kind}): ${target.what} takes ${target.table}.${col.name} from a sequence of that name`)
    // A worker that owns the table too made its own tables (rls-role says so): nothing more to add.
    else if (found.owner && workerRoles.includes(found.owner) && found.owner !== tableOwner)
      out.warnings.push(
        `the worker's role ${found.owner} owns sequence ${col.sequence}: it could ALTER or DROP what every insert into ${target.table} needs; a superuser runs \`ALTER SEQUENCE ${seq} OWNER TO ${tableOwner ? quoteIdent(tableOwner) : '<the migration role>'}\` (the table's owner)`
      )
  }
}
