// The database identities the app configures (configured.py writes one JSON line each into the
// run's folder, beside the connection record): Django's DATABASES, engines created at import,
// DSN-shaped settings and environment values — whether or not the run used them. Written by the
// worker's own process (untrusted code), so read like the connection record: bounded, no symlink,
// each line schema-checked and scrubbed, then merged into one entry per (role, where, server).
import path from 'node:path'
import { z } from 'zod'
import { clean, parseRecordLines, readBounded, readConnections, type IdentityRecord } from './connections.js'
import { readEnvReads, type EnvReads } from './env-reads.js'

/** Configured identities file name inside the run's folder (bootstrap.py writes it beside the record). */
export const CONFIGURED_FILE = 'configured.jsonl'
const FIELD_MAX = 200
/** Distinct configured identities kept. */
const CONFIGURED_MAX = 100

/** How the role was found: written in the DSN/settings, or libpq's default for a DSN without one. */
export type RoleSource = 'dsn' | 'PGUSER' | 'os user' | 'unspecified'

export interface ConfiguredIdentity {
  /** The role; undefined when it cannot be told (a libpq service names it in a file not read). */
  role?: string
  roleFrom: RoleSource
  /** `DATABASES['reports']`, `env APP_DATA_URL`, `engine created at app.db:12`, `celery conf broker_url`. */
  where: string
  host?: string
  port?: number
  dbname?: string
  applicationName?: string
  service?: string
}

export interface ConfiguredRecord {
  identities: ConfiguredIdentity[]
  rejected: number
  truncated: boolean
  missing: boolean
  /** Which environment variables the app's code read during the run (env-reads.ts). */
  envReads?: EnvReads
}

const text = z.string().max(FIELD_MAX).nullish()
let schema:
  | z.ZodType<{
      role?: string | null
      role_from: RoleSource
      where: string
      host?: string | null
      port?: number | null
      dbname?: string | null
      application_name?: string | null
      service?: string | null
    }>
  | undefined
function lineSchema() {
  schema ??= z.object({
    role: z.string().min(1).max(FIELD_MAX).nullish(),
    role_from: z.enum(['dsn', 'PGUSER', 'os user', 'unspecified']),
    where: z.string().min(1).max(FIELD_MAX),
    host: text,
    port: z.number().int().min(1).max(65535).nullish(),
    dbname: text,
    application_name: text,
    service: text
  })
  return schema
}

/** Parses configured.py's lines; identical entries (same role, where, server) are kept once. */
export function parseConfigured(body: string, redact: (t: string) => string): Pick<ConfiguredRecord, 'identities' | 'rejected'> {
  const byKey = new Map<string, ConfiguredIdentity>()
  const { lines, rejected: notUnderstood } = parseRecordLines(body, lineSchema())
  let rejected = notUnderstood
  for (const d of lines) {
    if (!d.role && d.role_from !== 'unspecified') {
      rejected++
      continue
    }
    const opt = (k: keyof ConfiguredIdentity, v: string | null | undefined) => (v ? { [k]: clean(v, redact) } : {})
    const entry: ConfiguredIdentity = {
      ...opt('role', d.role),
      roleFrom: d.role ? d.role_from : 'unspecified',
      where: clean(d.where, redact),
      ...opt('host', d.host),
      ...(d.port ? { port: d.port } : {}),
      ...opt('dbname', d.dbname),
      ...opt('applicationName', d.application_name),
      ...opt('service', d.service)
    }
    const key = JSON.stringify([entry.role, entry.where, entry.host, entry.port, entry.dbname])
    if (byKey.has(key)) continue
    if (byKey.size < CONFIGURED_MAX) byKey.set(key, entry)
    else rejected++
  }
  return { identities: [...byKey.values()], rejected }
}

/** Reads the configured identities beside the connection record `connectionsFile`; never throws. */
export function readConfigured(connectionsFile: string, redact: (t: string) => string): ConfiguredRecord {
  const { text: body, truncated, missing } = readBounded(path.join(path.dirname(connectionsFile), CONFIGURED_FILE))
  if (body === undefined) return { identities: [], rejected: missing ? 0 : 1, truncated, missing }
  return { ...parseConfigured(body, redact), truncated, missing }
}

/** The run's records: the connections opened, the identities configured, the variables read. */
export function readIdentities(connectionsFile: string, redact: (t: string) => string): IdentityRecord {
  const configured = { ...readConfigured(connectionsFile, redact), envReads: readEnvReads(connectionsFile, redact) }
  return { ...readConnections(connectionsFile, redact), configured }
}

/** "postgres" / "runner (libpq's default: the OS user)" / "unspecified (service reports)" */
export function describeRole(i: ConfiguredIdentity): string {
  if (!i.role) return `unspecified${i.service ? ` (libpq service ${i.service})` : ''}`
  if (i.roleFrom === 'PGUSER') return `${i.role} (libpq's default: PGUSER)`
  if (i.roleFrom === 'os user') return `${i.role} (libpq's default: the OS user)`
  return i.role
}
