// What the database says about PGMQ: whether it is installed (as an extension, or SQL-only from
// the pgmq package's pgmq.sql), whether the server could install the extension, and what a role
// holds on it. Set-based queries with arrays as parameters; each privilege is one has_*_privilege
// call (a list of privileges in one call is true when any of them is held).
import type { Database } from './database.js'
import { PGMQ_SCHEMA, type PgmqNeed } from './pgmq-privileges.js'

export interface PgmqInstall {
  /** Schema `pgmq` exists. */
  schema: boolean
  /** The schema's owner (who may grant on it and its tables). */
  schemaOwner?: string
  /** Installed with CREATE EXTENSION: its version and owner. */
  extension?: { version: string; owner: string }
  /** The server's pgmq extension files (pg_available_extensions), when present. */
  available?: { version: string; superuser: boolean; trusted: boolean }
  /** Functions in schema pgmq (76 in PGMQ 1.13.0). */
  functions: number
}

export async function pgmqInstall(db: Database): Promise<PgmqInstall> {
  const [row] = await db.query<{
    schema_owner: string | null
    ext_version: string | null
    ext_owner: string | null
    av_version: string | null
    av_superuser: boolean | null
    av_trusted: boolean | null
    functions: number
  }>(
    `SELECT (SELECT pg_get_userbyid(n.nspowner) FROM pg_namespace n WHERE n.nspname = $1) AS schema_owner,
            e.extversion AS ext_version, pg_get_userbyid(e.extowner) AS ext_owner,
            v.version AS av_version, v.superuser AS av_superuser, v.trusted AS av_trusted,
            (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1)::int AS functions
       FROM (SELECT 1) one
       LEFT JOIN pg_extension e ON e.extname = 'pgmq'
       LEFT JOIN pg_available_extensions a ON a.name = 'pgmq'
       LEFT JOIN pg_available_extension_versions v ON v.name = 'pgmq' AND v.version = a.default_version`,
    [PGMQ_SCHEMA]
  )
  return {
    schema: row?.schema_owner != null,
    ...(row?.schema_owner != null ? { schemaOwner: row.schema_owner } : {}),
    ...(row?.ext_version != null ? { extension: { version: row.ext_version, owner: row.ext_owner ?? '?' } } : {}),
    ...(row?.av_version != null ? { available: { version: row.av_version, superuser: row.av_superuser === true, trusted: row.av_trusted === true } } : {}),
    functions: row?.functions ?? 0
  }
}

export interface PgmqNeedCheck extends PgmqNeed {
  role: string
  exists: boolean
  granted: boolean
}

/** Each need checked for `role`, one privilege per call; objects that do not exist are marked. */
export async function checkPgmqNeeds(db: Database, role: string, needs: readonly PgmqNeed[]): Promise<PgmqNeedCheck[]> {
  if (!needs.length) return []
  const rows = await db.query<{ i: number; exists: boolean; granted: boolean | null }>(
    `SELECT c.i,
            CASE c.kind WHEN 'schema' THEN to_regnamespace(c.obj) IS NOT NULL
                        WHEN 'table' THEN to_regclass(c.obj) IS NOT NULL
                        ELSE to_regprocedure(c.obj) IS NOT NULL END AS exists,
            CASE WHEN c.kind = 'schema' AND to_regnamespace(c.obj) IS NOT NULL THEN has_schema_privilege($1, to_regnamespace(c.obj), c.priv)
                 WHEN c.kind = 'table' AND to_regclass(c.obj) IS NOT NULL THEN has_table_privilege($1, to_regclass(c.obj), c.priv)
                 WHEN c.kind = 'function' AND to_regprocedure(c.obj) IS NOT NULL THEN has_function_privilege($1, to_regprocedure(c.obj), c.priv)
            END AS granted
       FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS c(kind, obj, priv, i)`,
    [role, needs.map((n) => n.kind), needs.map((n) => n.object), needs.map((n) => n.privilege)]
  )
  return rows.map((r) => ({ ...(needs[Number(r.i) - 1] as PgmqNeed), role, exists: r.exists, granted: r.granted === true }))
}

export interface QueueTableOwner {
  table: string
  owner: string
  /** The role owns it, or inherits the owner's privileges (what PostgreSQL's owner check asks). */
  ownedByRole: boolean
}

/** Which of the named pgmq tables exist, who owns them, and whether `role` passes the owner check. */
export async function queueTableOwners(db: Database, role: string, tables: string[]): Promise<QueueTableOwner[]> {
  if (!tables.length) return []
  const rows = await db.query<{ table: string; owner: string; owned: boolean }>(
    `SELECT c.relname::text AS table, pg_get_userbyid(c.relowner) AS owner,
            pg_has_role($1, c.relowner, 'USAGE') AS owned
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $2 AND c.relname = ANY($3::text[])
      ORDER BY 1`,
    [role, PGMQ_SCHEMA, tables]
  )
  return rows.map((r) => ({ table: r.table, owner: r.owner, ownedByRole: r.owned }))
}

export interface ExtensionRights {
  superuser: boolean
  /** CREATE on the current database: what a non-superuser needs to create the extension's schema. */
  createOnDatabase: boolean
  database: string
}

export async function extensionRights(db: Database, role: string): Promise<ExtensionRights> {
  const [row] = await db.query<{ superuser: boolean | null; create_db: boolean; database: string }>(
    `SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = $1) AS superuser,
            has_database_privilege($1, current_database(), 'CREATE') AS create_db,
            current_database() AS database`,
    [role]
  )
  return { superuser: row?.superuser === true, createOnDatabase: row?.create_db === true, database: row?.database ?? '' }
}
