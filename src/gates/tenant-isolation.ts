import { randomBytes, randomInt, randomUUID } from 'node:crypto'
import { discoverTenantTables, namedTenantTables, type TenantTable } from '../db/catalog.js'
import { connect, describeDbError, type Database } from '../db/database.js'
import { malformedEntryFinding } from '../db/table-name.js'
import { EVIDENCE_LIST_ITEMS, formatCount, linesWithMore, listWithMore } from '../util/bounded.js'
import { quoteIdent, quoteLiteral, quoteSettingName } from '../util/quote.js'
import { connectForChecks, gateOutcome, type Gate } from './gate.js'

export const tenantIsolationGate: Gate = {
  id: 'tenant-isolation',
  title: 'Tenant isolation',
  description:
    "As the worker's role: no tenant set shows no row, a random tenant shows none of the existing rows, row_security=off is refused, the tenant setting ends with its transaction",
  foundation: true,
  needs: ['broker-config'],
  async run({ settings, facts }) {
    const plane = await facts.dataPlane()
    if (!plane?.ok) return gateOutcome('fail', 'no PostgreSQL data plane to check')
    // The worker's own DSN: what its tasks see is what this gate must see.
    const connected = await connectForChecks(facts, "as the worker's role", () => connect(plane.plane.broker.parts, { connectTimeoutMs: 5000 }))
    if ('outcome' in connected) return connected.outcome
    const { db } = connected
    try {
      return await isolationChecks(db, settings.tenantTables)
    } finally {
      await db.close()
    }
  }
}

interface Setting {
  name: string
  /** Whether every policy reads it with current_setting(name, true). */
  missingOk: boolean
}

async function isolationChecks(db: Database, named: string[] | undefined) {
  const all = named ? await namedTenantTables(db, named) : await discoverTenantTables(db)
  // A malformed entry fails rls-role (which owns the input); here it is only named, so one typo
  // is one failed gate, and the other entries are still checked.
  const skipped = all.filter((t) => t.malformed !== undefined).map((t) => malformedEntryFinding(t.name, t.malformed as string))
  const skippedNote = linesWithMore(skipped, { noun: ['entry', 'entries'], where: 'see rls-role' })
  const tables = all.filter((t) => t.exists)
  // No tenant table found by discovery: there is nothing to isolate, and a project without tenants
  // would see a warning on every run. The gate did not run, so it says `skip` (not a pass, which
  // would claim isolation it never checked), once, with how to turn it on; rls-role says the same
  // as a note. Named tables that do not exist are the user's mistake: still a warning here (and a
  // failure of rls-role, which owns the input).
  if (!tables.length)
    return named
      ? gateOutcome('warn', ['no tenant table to check: no entry of tenant-tables names an existing table (rls-role says which)', ...skippedNote].join('\n'))
      : gateOutcome('skip', 'no tenant table: isolation not checked (set tenant-tables, or add a tenant_id column)')
  const settingsRead = await tenantSettings(db, tables)
  const problems: string[] = []
  const notes: string[] = []
  const role = db.role

  // A session starts with no tenant: a role or database default would give every task one.
  for (const s of settingsRead) {
    const value = await scalar(db, 'SELECT current_setting($1, true) AS v', [s.name])
    if (value)
      problems.push(
        `a new session of ${role} starts with ${s.name} = ${JSON.stringify(value)} (a role or database default): every task sees that tenant — ALTER ROLE ${quoteIdent(role)} RESET ${quoteSettingName(s.name)}`
      )
  }
  for (const s of settingsRead.filter((x) => !x.missingOk))
    notes.push(
      `a policy reads ${s.name} without missing_ok (current_setting(${quoteLiteral(s.name)}) raises when it is unset): write current_setting(${quoteLiteral(s.name)}, true)`
    )

  // Every check covers all tables in one statement where it can (a schema may have hundreds of
  // tenant tables, and this gate is on the step's wall time); table by table only to say which
  // one raised.
  const names = tables.map((t) => t.qualifiedName as string)
  // 1. No tenant set: deny by default.
  const none = await countEach(db, names)
  names.forEach((name, i) => {
    const n = none[i] as number | string
    if (typeof n === 'string') notes.push(`${name} with no tenant set: ${n}`)
    else if (n > 0)
      problems.push(`${name}: ${n} rows visible with no tenant set — deny by default is broken (a permissive policy, or RLS that does not apply to ${role})`)
  })
  // 2. A random tenant, inside a transaction: none of the existing rows; 3. it ends with it. The
  // tenant is a value of the tables' tenant_id type: a uuid set for an integer column makes the
  // policy raise, which proves nothing.
  const kinds = await tenantKinds(db, names)
  const groups = new Map<string, { kind: TenantKind; names: string[] }>()
  names.forEach((name, i) => {
    const kind = kinds[i] as TenantKind
    if (kind.kind === 'other')
      notes.push(`${name}: tenant_id is ${kind.type}: the random-tenant check did not run (it knows integer, uuid and text tenant ids)`)
    else {
      const group = groups.get(JSON.stringify(kind)) ?? { kind, names: [] }
      group.names.push(name)
      groups.set(JSON.stringify(kind), group)
    }
  })
  for (const s of settingsRead) {
    for (const { kind, names: group } of groups.values()) {
      const stranger = await countEachAsTenant(db, s.name, randomTenant(kind), group)
      group.forEach((name, i) => {
        const n = stranger[i] as number | string
        if (typeof n === 'string') notes.push(`${name} as a random tenant: ${n}`)
        else if (n > 0) problems.push(`${name}: a random tenant (${s.name}) sees ${n} existing rows`)
      })
    }
    const after = await scalar(db, 'SELECT current_setting($1, true) AS v', [s.name])
    if (after) problems.push(`${s.name} is still ${JSON.stringify(after)} after the transaction that set it: it would leak to the next task on this connection`)
  }
  // 4. row_security = off must be refused for a role RLS applies to.
  for (const name of await readableWithoutRowSecurity(db, names))
    problems.push(`${name}: with row_security = off ${role} still reads it — RLS does not apply to ${role} (SUPERUSER, BYPASSRLS, or the owner without FORCE)`)
  if (!settingsRead.length) notes.push('no policy reads a tenant setting (current_setting(…)): the random-tenant and leak checks did not run')
  // The evidence names the first tables and says how many more; the details name them all.
  const tableNames = tables.map((t) => t.qualifiedName as string)
  const checked = `${formatCount(tables.length)} tenant table${tables.length > 1 ? 's' : ''} as ${role}: ${listWithMore(tableNames, { noun: ['table', 'tables'], where: "see the gate's details" })}`
  const details =
    tables.length > EVIDENCE_LIST_ITEMS || problems.length > EVIDENCE_LIST_ITEMS || notes.length > EVIDENCE_LIST_ITEMS
      ? [...problems, ...notes, 'Tables checked:', ...tableNames].join('\n')
      : undefined
  const shown = (lines: string[], noun: readonly [string, string]): string[] => linesWithMore(lines, { noun, where: "see the gate's details" })
  if (problems.length)
    return gateOutcome('fail', [...shown(problems, ['problem', 'problems']), ...shown(notes, ['note', 'notes']), checked, ...skippedNote].join('\n'), details)
  const setting = settingsRead.map((s) => s.name).join(', ')
  const lines = [
    `${checked} — no row without a tenant${setting ? `, none for a random tenant (${setting}), the setting ends with its transaction` : ''}, row_security = off refused`,
    ...skippedNote
  ]
  return notes.length ? gateOutcome('warn', [...shown(notes, ['note', 'notes']), ...lines].join('\n'), details) : gateOutcome('pass', lines.join('\n'), details)
}

export type TenantKind = { kind: 'integer'; max: number } | { kind: 'uuid' } | { kind: 'text' } | { kind: 'other'; type: string }

const INTEGER_MAX = new Map([
  ['smallint', 32767],
  ['integer', 2147483647],
  ['bigint', Number.MAX_SAFE_INTEGER]
])

/** What a tenant id of this type is (a domain counts as its base type); no tenant_id column → uuid, as policies mostly cast. */
export function tenantKindOf(type: string | null): TenantKind {
  if (type === null) return { kind: 'uuid' }
  const max = INTEGER_MAX.get(type)
  if (max !== undefined) return { kind: 'integer', max }
  if (type === 'uuid') return { kind: 'uuid' }
  if (/^([\w.]+\.)?(text|citext|name|character varying|character|bpchar)(\(\d+\))?$/.test(type)) return { kind: 'text' }
  return { kind: 'other', type }
}

/**
 * A tenant no row has: a uuid, a short random string, or a negative integer within the type's
 * range (tenant ids from a sequence or an identity column start at 1; the role cannot read max()
 * through its own policy).
 */
export function randomTenant(kind: TenantKind): string {
  if (kind.kind === 'integer') return String(-randomInt(1, Math.min(kind.max, 2 ** 47)))
  if (kind.kind === 'text') return `cfg-stranger-${randomBytes(6).toString('hex')}`
  return randomUUID()
}

/** Each table's tenant_id type, in order (its base type for a domain; null without the column). */
async function tenantKinds(db: Database, tables: string[]): Promise<TenantKind[]> {
  const rows = await db.query<{ i: number; type: string | null }>(
    `SELECT x.i::int AS i, format_type(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END, NULL) AS type
       FROM unnest($1::text[]) WITH ORDINALITY AS x(n, i)
       LEFT JOIN pg_attribute a ON a.attrelid = to_regclass(x.n) AND a.attname = 'tenant_id' AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_type t ON t.oid = a.atttypid`,
    [tables]
  )
  const kinds: TenantKind[] = tables.map(() => ({ kind: 'uuid' }))
  for (const r of rows) kinds[r.i - 1] = tenantKindOf(r.type)
  return kinds
}

/** The settings the tables' policies read with current_setting(), and whether with missing_ok. */
async function tenantSettings(db: Database, tables: TenantTable[]): Promise<Setting[]> {
  const rows = await db.query<{ expr: string }>(
    `SELECT coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') AS expr
       FROM pg_policy p WHERE p.polrelid = ANY(SELECT to_regclass(n) FROM unnest($1::text[]) AS n)`,
    [tables.map((t) => t.qualifiedName)]
  )
  const found = new Map<string, boolean>()
  for (const { expr } of rows) {
    for (const m of expr.matchAll(/current_setting\('([^']+)'(?:::text)?\s*(,\s*(?:true|'t(?:rue)?'(?:::boolean)?))?\s*\)/g)) {
      const name = m[1] as string
      found.set(name, (found.get(name) ?? true) && !!m[2])
    }
  }
  return [...found].map(([name, missingOk]) => ({ name, missingOk }))
}

async function scalar(db: Database, sql: string, params: unknown[]): Promise<string | null> {
  const [row] = await db.query<{ v: string | null }>(sql, params)
  return row?.v ?? null
}

/** Rows visible, or the error the query raised (a policy without missing_ok raises). */
async function countRows(db: Database, table: string): Promise<number | string> {
  try {
    return Number(await scalar(db, `SELECT count(*)::text AS v FROM ${table}`, []))
  } catch (err) {
    return describeDbError(err).message
  }
}

/** Rows visible in each table, in one statement; undefined when it raised. */
async function countAll(db: Database, tables: string[]): Promise<number[] | undefined> {
  const sql = tables.map((t, i) => `SELECT ${i} AS i, count(*)::int AS n FROM ${t}`).join(' UNION ALL ')
  try {
    const counts: number[] = []
    for (const row of await db.query<{ i: number; n: number }>(sql)) counts[row.i] = row.n
    return counts
  } catch {
    return undefined
  }
}

/** Rows visible in each table, or the error its query raised. */
async function countEach(db: Database, tables: string[]): Promise<Array<number | string>> {
  const all = await countAll(db, tables)
  if (all) return all
  const each: Array<number | string> = []
  for (const t of tables) each.push(await countRows(db, t))
  return each
}

/** The same as one tenant, set for a transaction that is then committed, as a task's would be. */
async function countEachAsTenant(db: Database, setting: string, tenant: string, tables: string[]): Promise<Array<number | string>> {
  let all: number[] | undefined
  await db.query('BEGIN')
  try {
    await db.query('SELECT set_config($1, $2, true)', [setting, tenant])
    all = await countAll(db, tables)
  } finally {
    await db.query(all ? 'COMMIT' : 'ROLLBACK').catch(() => db.query('ROLLBACK').catch(() => {}))
  }
  if (all) return all
  const each: Array<number | string> = []
  for (const t of tables) each.push(await asTenant(db, setting, tenant, t))
  return each
}

async function asTenant(db: Database, setting: string, tenant: string, table: string): Promise<number | string> {
  await db.query('BEGIN')
  try {
    await db.query('SELECT set_config($1, $2, true)', [setting, tenant])
    return await countRows(db, table)
  } finally {
    await db.query('COMMIT').catch(() => db.query('ROLLBACK').catch(() => {}))
  }
}

/**
 * The tables the role can still read with row_security = off (each must refuse it). PostgreSQL
 * refuses exactly where row_security_active() is true (both are check_enable_rls), so one query
 * screens every table; the others are tried for real, each in a transaction of its own.
 */
async function readableWithoutRowSecurity(db: Database, tables: string[]): Promise<string[]> {
  const rows = await db.query<{ i: number; active: boolean }>(
    'SELECT i::int AS i, row_security_active(n::regclass) AS active FROM unnest($1::text[]) WITH ORDINALITY AS t(n, i)',
    [tables]
  )
  const suspects = rows.filter((r) => !r.active).map((r) => tables[r.i - 1] as string)
  const readable: string[] = []
  for (const t of suspects) if (await rowSecurityOff(db, t)) readable.push(t)
  return readable
}

/** Whether the role can still read the table with row_security = off (it must be refused). */
async function rowSecurityOff(db: Database, table: string): Promise<boolean> {
  await db.query('BEGIN')
  try {
    await db.query('SET LOCAL row_security = off')
    await db.query(`SELECT 1 FROM ${table} LIMIT 1`)
    return true
  } catch {
    return false
  } finally {
    await db.query('ROLLBACK').catch(() => {})
  }
}
