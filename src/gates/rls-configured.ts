// rls-role on the identities the app CONFIGURES (configured.ts): a role in Django's DATABASES, an
// engine created at import, a DSN in the app's settings or in the environment the worker inherits
// is a credential the worker's code holds, used during the run or not. Each is held to the rules
// of the identities used (expected-role or allowed-roles; the role's attributes and ownerships are
// judged by rls-role with the same functions), and said with where it was configured and whether
// the run used it. One that points at another server is judged only if a role of that name exists
// in the checked cluster, and what was not checked is said. An environment variable the worker
// inherited but its code never read (env-reads.ts) is not judged, only noted: CI often sets a
// migration DSN for the whole job, and failing every app that ignores it would be noise.
import { describeRole, type ConfiguredIdentity, type ConfiguredRecord } from '../celery/configured.js'
import { CONNECTIONS_MAX_BYTES } from '../celery/connections.js'
import { complete, envNameOf, incompleteReason } from '../celery/env-reads.js'
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

/**
 * The configured identities to judge, and the environment variables inherited but never read
 * (name → identity). Without a complete record of the reads, every variable counts as read.
 */
export function splitByReads(record: ConfiguredRecord | undefined): { judged: ConfiguredIdentity[]; unread: Array<[string, ConfiguredIdentity]> } {
  const judged: ConfiguredIdentity[] = []
  const unread: Array<[string, ConfiguredIdentity]> = []
  const reads = complete(record?.envReads) ? record?.envReads : undefined
  for (const i of record?.identities ?? []) {
    const name = envNameOf(i.where)
    if (reads && name !== undefined && !reads.read.has(name)) unread.push([name, i])
    else judged.push(i)
  }
  return { judged, unread }
}

/** The roles configured (an unread variable's aside), to look up with roleInfo before configuredFindings judges them. */
export function configuredRoles(record: ConfiguredRecord | undefined): string[] {
  return [
    ...new Set(
      splitByReads(record)
        .judged.map((i) => i.role)
        .filter((r): r is string => !!r)
    )
  ]
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
  const { judged, unread } = splitByReads(record)
  for (const i of judged) {
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
    const readBy = record?.envReads?.read.get(envNameOf(i.where) ?? '')
    if (readBy) where += ` (read by ${readBy})`
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
      ? "; an environment variable: if the worker does not need it, set it only on the steps that need it (the worker inherits the job's environment)"
      : ''
    problems.push(
      `${labels.get(role)} is configured at ${at} (${usage}), expected ${expected}${also}: configure ${expected} there (or a role meant for it, listed in allowed-roles), or remove it if the worker does not need it${env} — a credential in the worker's configuration is one its code can use`
    )
  }
  const allowedUnread = unread.filter(([, i]) => i.role && allowed.has(i.role))
  summary.push(...allowedUnread.map(([name, i]) => `${describeRole(i)} at env ${name} (inherited, never read)`))
  if (summary.length)
    lines.push(`database identities the app configures (read after import): ${listWithMore(summary, { separator: '; ', noun: ['identity', 'identities'] })}`)
  if (otherDatabases.size && target)
    lines.push(
      `⚠️ tenant-table ownership checked in database ${target.database} only, not in ${[...otherDatabases].join(', ')} (configured too): set database-url to check there`
    )
  const note = unreadNote(unread.filter(([, i]) => !i.role || !allowed.has(i.role)))
  if (note) lines.push(note)
  if (!complete(record?.envReads) && judged.some((i) => envNameOf(i.where) !== undefined))
    lines.push(
      `⚠️ which environment variables the app read is not known (${incompleteReason(record?.envReads)}): every DSN-shaped variable the worker inherits was judged as read`
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

/**
 * The variables the worker inherited, holding a DSN for a role the rules do not allow, that its
 * code never read: not a failure (the app does not use them), but a credential pull-request code
 * could still read. `worker-env` cannot help: it only passes on variables the action withholds
 * (worker-env.ts); the job's and this step's `env:` reach the worker whatever it says.
 */
export function unreadNote(unread: ReadonlyArray<readonly [string, ConfiguredIdentity]>): string | undefined {
  if (!unread.length) return undefined
  const one = unread.length === 1
  const what = one
    ? `${unread[0]?.[0]} holds a DSN for ${describeRole(unread[0]?.[1] as ConfiguredIdentity)} that this worker inherits`
    : `${listWithMore(
        unread.map(([name, i]) => `${name} (${describeRole(i)})`),
        { separator: ', ', noun: ['variable', 'variables'] }
      )} hold DSNs that this worker inherits`
  const it = one ? 'it' : 'them'
  return `⚠️ ${what} but never read during the run: pull-request code could still use ${it} — set ${it} only in the env: of the steps that need ${it}, not the job's or this step's (the worker inherits both; worker-env cannot withhold a variable, it only passes on ones the action withholds)`
}
