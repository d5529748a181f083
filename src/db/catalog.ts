// What the database itself says about tables, privileges, roles, sessions and row security.
// Few set-based queries with arrays as parameters: the number of statements does not grow with
// the number of tables or privileges. Privileges are checked one per has_*_privilege call, because
// has_table_privilege(role, t, 'SELECT,INSERT') is true when *any* of the listed ones is held.
import type { Database } from './database.js'
import { qualified } from '../util/quote.js'
import { tableNameProblem } from './table-name.js'

export interface PrivilegeNeed {
  kind: 'table' | 'sequence'
  /** Name for people: `kombu_message`, `results.celery_taskmeta`. */
  object: string
  /** Quoted name for to_regclass: `"kombu_message"`, `"results"."celery_taskmeta"`. */
  regclass: string
  role: string
  privilege: string
  /** Alternative privilege that also suffices (nextval needs USAGE or UPDATE). */
  orPrivilege?: string
  why: string
}

export interface PrivilegeCheck extends PrivilegeNeed {
  exists: boolean
  granted: boolean
}

export async function existingRoles(db: Database, roles: string[]): Promise<Set<string>> {
  const rows = await db.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])', [roles])
  return new Set(rows.map((r) => r.rolname))
}

export async function checkPrivileges(db: Database, needs: PrivilegeNeed[]): Promise<PrivilegeCheck[]> {
  if (!needs.length) return []
  const rows = await db.query<{ i: number; exists: boolean; granted: boolean | null }>(
    `SELECT c.i, to_regclass(c.obj) IS NOT NULL AS exists,
            CASE WHEN to_regclass(c.obj) IS NULL THEN NULL
                 WHEN c.kind = 'table' THEN has_table_privilege(c.role, to_regclass(c.obj), c.priv)
                      OR (c.alt <> '' AND has_table_privilege(c.role, to_regclass(c.obj), c.alt))
                 ELSE has_sequence_privilege(c.role, to_regclass(c.obj), c.priv)
                      OR (c.alt <> '' AND has_sequence_privilege(c.role, to_regclass(c.obj), c.alt))
            END AS granted
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY
            AS c(kind, obj, role, priv, alt, i)`,
    [needs.map((n) => n.kind), needs.map((n) => n.regclass), needs.map((n) => n.role), needs.map((n) => n.privilege), needs.map((n) => n.orPrivilege ?? '')]
  )
  return rows.map((r) => {
    const need = needs[Number(r.i) - 1] as PrivilegeNeed
    return { ...need, exists: r.exists, granted: r.granted === true }
  })
}

export interface RoleInfo {
  name: string
  superuser: boolean
  bypassRls: boolean
  canLogin: boolean
  /**
   * The bootstrap superuser (oid 10, `postgres` as initdb names it by default): PostgreSQL 16+
   * refuses to take SUPERUSER from it, so the fix is another role, not ALTER ROLE.
   */
  bootstrap: boolean
  /** Roles this one is a member of (directly or not) that are superuser or BYPASSRLS. */
  privilegedMemberships: string[]
}

export async function roleInfo(db: Database, roles: string[]): Promise<RoleInfo[]> {
  const rows = await db.query<{
    rolname: string
    rolsuper: boolean
    rolbypassrls: boolean
    rolcanlogin: boolean
    bootstrap: boolean
    escalations: string[] | null
  }>(
    `SELECT r.rolname::text AS rolname, r.rolsuper, r.rolbypassrls, r.rolcanlogin, r.oid = 10 AS bootstrap,
            -- A superuser is a member of every role; only ask for the others.
            ARRAY(SELECT p.rolname::text FROM pg_roles p
                   WHERE p.oid <> r.oid AND (p.rolsuper OR p.rolbypassrls) AND NOT r.rolsuper
                     AND pg_has_role(r.oid, p.oid, 'MEMBER')
                   ORDER BY 1) AS escalations
       FROM pg_roles r WHERE r.rolname = ANY($1::text[])`,
    [roles]
  )
  return rows.map((r) => ({
    name: r.rolname,
    superuser: r.rolsuper,
    bypassRls: r.rolbypassrls,
    canLogin: r.rolcanlogin,
    bootstrap: r.bootstrap,
    privilegedMemberships: r.escalations ?? []
  }))
}

export interface OwnedTable {
  /** The role judged. */
  role: string
  /** As PostgreSQL prints it (`public.invoices`). */
  table: string
  /** Every part quoted, for the ALTER TABLE … OWNER TO the user is told to run. */
  sqlName: string
  owner: string
  /** The role owns it itself (else it is a member, direct or not, of the owner). */
  direct: boolean
}

/**
 * Which of `tables` (names to_regclass accepts: quoted or as format('%I.%I') prints them) each of
 * `roles` owns or may act as the owner of. An owner may ALTER TABLE … NO FORCE / DISABLE ROW LEVEL
 * SECURITY, DROP or change the table whenever it likes, and so may every member of the owner role
 * (pg_has_role … 'MEMBER': directly or through other roles, whether or not it inherits — a member
 * can SET ROLE). A superuser is a member of every role; it is reported as SUPERUSER instead.
 * Missing tables are left out (to_regclass gives NULL).
 */
export async function ownedTables(db: Database, roles: string[], tables: string[]): Promise<OwnedTable[]> {
  if (!roles.length || !tables.length) return []
  const rows = await db.query<{ role: string; qualified_name: string; schema_name: string; rel_name: string; owner: string; direct: boolean }>(
    `SELECT r.rolname::text AS role, format('%I.%I', n.nspname, c.relname) AS qualified_name,
            n.nspname::text AS schema_name, c.relname::text AS rel_name,
            pg_get_userbyid(c.relowner) AS owner, c.relowner = r.oid AS direct
       FROM (SELECT DISTINCT to_regclass(t.name) AS oid FROM unnest($2::text[]) AS t(name)) t
       JOIN pg_class c ON c.oid = t.oid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_roles r ON r.rolname = ANY($1::text[]) AND NOT r.rolsuper
      WHERE pg_has_role(r.oid, c.relowner, 'MEMBER')
      ORDER BY 1, 2`,
    [roles, tables]
  )
  return rows.map((r) => ({ role: r.role, table: r.qualified_name, sqlName: qualified(r.rel_name, r.schema_name), owner: r.owner, direct: r.direct }))
}

export interface SessionRow {
  pid: number
  usename: string | null
  application_name: string | null
  client_port: number | null
  backend_type: string | null
}

/**
 * Sessions attributed to the worker: by its application_name, or by the TCP ports its processes
 * hold. A session still authenticating (state `starting`, no role yet: a pool child connecting at
 * that moment) is left out — it has no role to judge; seen in CI as a role "?" among 8 runs at once.
 */
export async function workerSessions(db: Database, applicationName: string, clientPorts: number[]): Promise<SessionRow[]> {
  return db.query<SessionRow & Record<string, unknown>>(
    `SELECT pid, usename, application_name, client_port, backend_type
       FROM pg_stat_activity
      WHERE pid <> pg_backend_pid()
        AND usename IS NOT NULL
        AND (application_name = $1 OR client_port = ANY($2::int[]))
      ORDER BY backend_start`,
    [applicationName, clientPorts]
  )
}

export interface TenantTable {
  /** As the user named it, or as discovered (schema.table). */
  name: string
  /** As PostgreSQL prints it (format %I.%I: quoted where needed), for people and for SQL. */
  qualifiedName?: string
  /** Every part quoted (`"public"."invoices"`), for SQL the user is told to run. */
  sqlName?: string
  /** Set when the entry cannot name a table at all (it was not looked up): why. */
  malformed?: string
  exists: boolean
  rlsEnabled: boolean
  rlsForced: boolean
  owner?: string
  policies: number
}

const SYSTEM_SCHEMA_FILTER = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`

const TABLE_FACTS = `
  c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
  pg_get_userbyid(c.relowner) AS owner,
  (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)::int AS policies,
  -- format() refuses NULL identifiers, and a named table that does not exist joins as NULLs.
  CASE WHEN c.oid IS NULL THEN NULL ELSE format('%I.%I', n.nspname, c.relname) END AS qualified_name,
  n.nspname::text AS schema_name, c.relname::text AS rel_name`

/** Tables with a `tenant_id` column outside system schemas (the default tenant table set). */
export async function discoverTenantTables(db: Database): Promise<TenantTable[]> {
  const rows = await db.query<{
    qualified_name: string
    schema_name: string
    rel_name: string
    rls_enabled: boolean
    rls_forced: boolean
    owner: string
    policies: number
  }>(
    `SELECT ${TABLE_FACTS}
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND ${SYSTEM_SCHEMA_FILTER}
        AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND a.attnum > 0 AND NOT a.attisdropped)
      ORDER BY qualified_name`
  )
  return rows.map((r) => ({
    name: r.qualified_name,
    qualifiedName: r.qualified_name,
    sqlName: qualified(r.rel_name, r.schema_name),
    exists: true,
    rlsEnabled: r.rls_enabled,
    rlsForced: r.rls_forced,
    owner: r.owner,
    policies: r.policies
  }))
}

type NamedRow = {
  i: number
  qualified_name: string | null
  schema_name: string | null
  rel_name: string | null
  rls_enabled: boolean | null
  rls_forced: boolean | null
  owner: string | null
  policies: number | null
}

/**
 * The named tables, in the order given. Names are looked up by PostgreSQL itself (to_regclass),
 * quotes and schema included; an entry that cannot be a name is not sent (it would make the
 * lookup raise for every entry) but returned with `malformed` saying why.
 */
export async function namedTenantTables(db: Database, names: string[]): Promise<TenantTable[]> {
  const problems = names.map((n) => tableNameProblem(n))
  const wellFormed = names.filter((_, i) => problems[i] === undefined)
  const found = new Map<string, TenantTable>()
  for (const t of await lookUpNamed(db, wellFormed)) found.set(t.name, t)
  return names.map((name, i) => {
    const malformed = problems[i]
    if (malformed !== undefined) return { name, malformed, exists: false, rlsEnabled: false, rlsForced: false, policies: 0 }
    return found.get(name) ?? { name, exists: false, rlsEnabled: false, rlsForced: false, policies: 0 }
  })
}

async function lookUpNamed(db: Database, names: string[]): Promise<TenantTable[]> {
  if (!names.length) return []
  try {
    return await lookUpBatch(db, names)
  } catch {
    // A name the check above let through and PostgreSQL still refuses: look the names up one by
    // one, so only that entry is lost, with PostgreSQL's reason.
    const out: TenantTable[] = []
    for (const name of names) {
      try {
        out.push(...(await lookUpBatch(db, [name])))
      } catch (err) {
        out.push({
          name,
          malformed: (err as Error).message.split('\n')[0] ?? 'PostgreSQL refused it',
          exists: false,
          rlsEnabled: false,
          rlsForced: false,
          policies: 0
        })
      }
    }
    return out
  }
}

async function lookUpBatch(db: Database, names: string[]): Promise<TenantTable[]> {
  const rows = await db.query<NamedRow>(
    `SELECT t.i, ${TABLE_FACTS}
       FROM unnest($1::text[]) WITH ORDINALITY AS t(name, i)
       LEFT JOIN pg_class c ON c.oid = to_regclass(t.name)
       LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
      ORDER BY t.i`,
    [names]
  )
  return rows.map((r) => ({
    name: names[Number(r.i) - 1] as string,
    qualifiedName: r.qualified_name ?? undefined,
    sqlName: r.rel_name !== null && r.schema_name !== null ? qualified(r.rel_name, r.schema_name) : undefined,
    exists: r.qualified_name !== null,
    rlsEnabled: r.rls_enabled === true,
    rlsForced: r.rls_forced === true,
    owner: r.owner ?? undefined,
    policies: r.policies ?? 0
  }))
}

/**
 * Whether row security applies to `role` on each table. PostgreSQL's row_security_active() only
 * answers for the current user, so for another role it is computed from the same rules:
 * RLS enabled, the role neither superuser nor BYPASSRLS, and the role not the owner unless FORCE.
 */
export function rowSecurityActiveFor(table: TenantTable, role: RoleInfo): boolean {
  if (!table.rlsEnabled || role.superuser || role.bypassRls) return false
  return table.rlsForced || table.owner !== role.name
}

export async function rowSecurityActiveAsCurrentUser(db: Database, qualifiedNames: string[]): Promise<Map<string, boolean>> {
  const rows = await db.query<{ name: string; active: boolean }>(
    `SELECT t.name, row_security_active(to_regclass(t.name)) AS active FROM unnest($1::text[]) AS t(name)`,
    [qualifiedNames]
  )
  return new Map(rows.map((r) => [r.name, r.active]))
}

/**
 * A table name as the user wrote it (maybe schema-qualified, maybe quoted), resolved by PostgreSQL
 * and returned as the quoted name it prints for that table — safe to use in SQL text. Undefined
 * when no such table exists.
 */
export async function resolveTable(db: Database, name: string): Promise<string | undefined> {
  const [row] = await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [name])
  return row?.t ?? undefined
}

/** A table PostgreSQL resolved (a regclass as text), with every part quoted, for suggested SQL. */
export async function fullyQuotedTable(db: Database, regclass: string): Promise<string> {
  const [row] = await db.query<{ schema: string; rel: string }>(
    'SELECT n.nspname::text AS schema, c.relname::text AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::regclass',
    [regclass]
  )
  return row ? qualified(row.rel, row.schema) : regclass
}
