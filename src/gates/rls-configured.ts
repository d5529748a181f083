// rls-role on the identities the app CONFIGURES (configured.ts): a role in Django's DATABASES, an
// engine created at import, a DSN in the app's settings or in the environment the worker inherits
// is a credential the worker's code holds, used during the run or not. Each is held to the rules
// of the identities used (expected-role or allowed-roles; the role's attributes and ownerships are
// judged by rls-role with the same functions), and said with where it was configured and whether
// the run used it. One that points at another server is judged only if a role of that name exists
// in the checked cluster, and what was not checked is said.
import { describeRole, type ConfiguredIdentity, type ConfiguredRecord } from '../celery/configured.js'
import { CONNECTIONS_MAX_BYTES } from '../celery/connections.js'
import type { Database } from '../db/database.js'
import { formatCount, listWithMore } from '../util/bounded.js'

/** The server and database rls-role's SQL checks run on. */
export interface CheckedTarget {
  database: string
  /** The server's port (the DSN's when the server does not say: a Unix socket). */
  port?: number
  /** Names the checked server is known by: the checked DSN's host and the server's own address. */
  hosts: string[]
}

export async function checkedTarget(db: Database, dsn?: { host?: string; port?: number }): Promise<CheckedTarget> {
  const [row] = await db.query<{ database: string; port: number | null; addr: string | null }>(
    'SELECT current_database() AS database, inet_server_port() AS port, host(inet_server_addr()) AS addr'
  )
  return {
    database: row?.database ?? '',
    port: row?.port ?? dsn?.port ?? 5432,
    hosts: [dsn?.host, row?.addr ?? undefined].filter((h): h is string => h !== undefined)
  }
}

const LOCAL_HOSTS = new Set(['', 'localhost', '127.0.0.1', '::1'])
/** No host (libpq's default socket), a Unix socket directory, or the loopback. */
const isLocal = (host: string | undefined): boolean => !host || LOCAL_HOSTS.has(host.toLowerCase()) || host.startsWith('/')

/** Whether `i` points at the checked server (same host, by name or address, and same port). */
export function sameServer(i: ConfiguredIdentity, target: CheckedTarget): boolean {
  if (target.port !== undefined && (i.port ?? 5432) !== target.port) return false
  if (isLocal(i.host)) return !target.hosts.length || target.hosts.some(isLocal)
  return target.hosts.some((h) => h.toLowerCase() === i.host?.toLowerCase())
}

const serverOf = (host: string | undefined, port: number | undefined): string => `${host || 'localhost'}:${port ?? 5432}`

export interface ConfiguredFindings {
  problems: string[]
  lines: string[]
  /** Role → where it is configured (judged entries only), for the role's other findings. */
  configuredAt: Map<string, string[]>
}

/** The roles configured, to look up with roleInfo before configuredFindings judges them. */
export function configuredRoles(record: ConfiguredRecord | undefined): string[] {
  return [...new Set((record?.identities ?? []).map((i) => i.role).filter((r): r is string => !!r))]
}

/**
 * The configured identities judged by the rule of the used ones. `used`: the roles seen during the
 * run (sessions and the connection record); `existing`: the roles found in the checked cluster.
 */
export function configuredFindings(
  record: ConfiguredRecord | undefined,
  expected: string,
  allowedRoles: readonly string[],
  used: ReadonlySet<string>,
  target: CheckedTarget | undefined,
  existing: ReadonlySet<string>
): ConfiguredFindings {
  const problems: string[] = []
  const lines: string[] = []
  const notChecked: string[] = []
  const configuredAt = new Map<string, string[]>()
  const labels = new Map<string, string>()
  const otherDatabases = new Set<string>()
  for (const i of record?.identities ?? []) {
    if (!i.role) {
      notChecked.push(`${i.where} (role ${describeRole(i)})`)
      continue
    }
    let where = i.where
    if (target && !sameServer(i, target)) {
      // Roles are per server: a role of that name here says nothing sure about the other one.
      if (!existing.has(i.role)) {
        notChecked.push(`${i.where} (${i.role} on ${serverOf(i.host, i.port)}, not the checked server ${serverOf(target.hosts[0], target.port)})`)
        continue
      }
      where += ` (on ${serverOf(i.host, i.port)}, not the checked server: judged as the role ${i.role} of the checked server)`
    } else if (target && i.dbname && i.dbname !== target.database) {
      otherDatabases.add(i.dbname)
      where += ` (database ${i.dbname})`
    }
    configuredAt.set(i.role, [...(configuredAt.get(i.role) ?? []), where])
    labels.set(i.role, describeRole(i))
  }

  const allowed = new Set([expected, ...allowedRoles])
  const also = allowedRoles.length ? ` or one of allowed-roles (${allowedRoles.join(', ')})` : ''
  const summary: string[] = []
  for (const [role, wheres] of configuredAt) {
    const at = listWithMore(wheres, { separator: ', ', noun: ['place', 'places'] })
    const usage = used.has(role) ? 'configured, and used during this run' : 'configured, not used during this run'
    summary.push(`${labels.get(role)} at ${at}${used.has(role) ? '' : ' (not used during this run)'}`)
    if (allowed.has(role)) continue
    const env = wheres.some((w) => w.startsWith('env '))
      ? "; an environment variable: set it only on the steps that need it (the worker inherits the job's environment)"
      : ''
    problems.push(
      `${labels.get(role)} is configured at ${at} (${usage}), expected ${expected}${also}: configure ${expected} there (or a role meant for it, listed in allowed-roles), or remove it if the worker does not need it${env} — a credential in the worker's configuration is one its code can use`
    )
  }
  if (summary.length)
    lines.push(`database identities the app configures (read after import): ${listWithMore(summary, { separator: '; ', noun: ['identity', 'identities'] })}`)
  if (otherDatabases.size && target)
    lines.push(
      `⚠️ tenant-table ownership checked in database ${target.database} only, not in ${[...otherDatabases].join(', ')} (configured too): set database-url to check there`
    )
  if (notChecked.length) lines.push(`⚠️ configured identities not checked: ${listWithMore(notChecked, { separator: '; ', noun: ['identity', 'identities'] })}`)
  // The worker writes the file (maybe empty) right after import; none means it could not, or removed it.
  if (record?.missing) lines.push('⚠️ the identities the app configures were not read (the worker left no record): configured roles not checked')
  if (record?.rejected) lines.push(`⚠️ ${formatCount(record.rejected)} entries of the configured identities were not understood and were ignored`)
  if (record?.truncated) lines.push(`⚠️ the configured identities were cut at ${CONNECTIONS_MAX_BYTES / 1024 / 1024} MiB: the rest is not judged`)
  return { problems, lines, configuredAt }
}

/**
 * The words a role's other findings (SUPERUSER, owner …) end with: where it was used during the
 * run and where it is configured; empty for a role neither recorded nor configured.
 */
export function roleContext(
  role: string,
  used: ReadonlySet<string>,
  usedBy: ReadonlyMap<string, string[]>,
  configuredAt: ReadonlyMap<string, string[]>
): string {
  const parts: string[] = []
  const uses = usedBy.get(role)
  if (uses) parts.push(`used by ${uses.join('; ')}`)
  const at = configuredAt.get(role)
  if (at) parts.push(`configured at ${listWithMore(at, { separator: ', ', noun: ['place', 'places'] })}${used.has(role) ? '' : ', not used during this run'}`)
  return parts.length ? ` (${parts.join('; ')})` : ''
}
