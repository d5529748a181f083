import {
  discoverTenantTables,
  namedTenantTables,
  ownedTables,
  roleInfo,
  rowSecurityActiveAsCurrentUser,
  rowSecurityActiveFor,
  workerSessions,
  type OwnedTable,
  type RoleInfo,
  type SessionRow,
  type TenantTable
} from '../db/catalog.js'
import { CONNECTIONS_MAX_BYTES, describeIdentity, type IdentityRecord } from '../celery/connections.js'
import type { Settings } from '../settings.js'
import { checkedTarget, configuredFindings, configuredRoles, roleContext, type CheckedTarget } from './rls-configured.js'
import type { Database } from '../db/database.js'
import { malformedEntryFinding } from '../db/table-name.js'
import { localPortsTo } from '../proc/process-tree.js'
import { EVIDENCE_LIST_ITEMS, formatCount, linesWithMore, listWithMore } from '../util/bounded.js'
import { qualified, quoteIdent } from '../util/quote.js'
import type { GateFacts, SampledRecord } from './facts.js'
import { connectForChecks, gateOutcome, type Gate } from './gate.js'

export const rlsRoleGate: Gate = {
  id: 'rls-role',
  title: 'RLS/Role',
  description:
    "Every database identity of the worker's processes — sessions sampled in pg_stat_activity during the run, connections recorded in-process, roles configured — is expected-role or one of allowed-roles, and none is SUPERUSER, BYPASSRLS or a tenant table's owner (nor a member of one); tenant tables have RLS enabled and forced",
  foundation: true,
  needs: ['broker-config'],
  async run({ settings, facts }) {
    const connected = await connectForChecks(facts, 'to check roles')
    if ('outcome' in connected) return connected.outcome
    const { db } = connected
    const expected = settings.expectedRole
    const problems: string[] = []
    const lines: string[] = []

    // 1. Who the worker really is, from pg_stat_activity (not from its DSN) — only for a worker
    // that answered: one that is dying, or was never started, has no sessions to judge.
    const sessions = (await facts.pingAnswered())
      ? await findWorkerSessions(db, facts)
      : { checked: false, reason: 'the worker never answered (`runtime` did not pass)', rows: [] as SessionRow[] }
    if (sessions.checked) {
      const users = [...new Set(sessions.rows.map((r) => r.usename ?? '?'))]
      if (!sessions.rows.length)
        problems.push(
          `no database session of ${facts.ids.nodeName} found in pg_stat_activity (application_name ${facts.ids.applicationName}; does the DSN set its own application_name, and may ${db.role} see the worker's sessions?)`
        )
      else {
        const allowed = new Set([expected, ...settings.allowedRoles])
        const others = users.filter((u) => !allowed.has(u))
        const also = settings.allowedRoles.length ? ` or one of allowed-roles (${settings.allowedRoles.join(', ')})` : ''
        if (others.length)
          problems.push(
            `the worker's sessions use role ${others.join(', ')}, expected ${expected}${also}: connect the worker as ${expected}, or add a role meant for it to allowed-roles`
          )
        else {
          const n = sessions.rows.length
          lines.push(`${n} session${n > 1 ? 's' : ''} of ${facts.ids.nodeName} in pg_stat_activity, all ${users.join(', ')}`)
        }
      }
    } else lines.push(`sessions not checked: ${sessions.reason}`)
    // Without sessions to look at, the gate's first claim is unproven: at best mixed.

    // 1b. Every connection the worker's processes opened during the run, recorded in-process
    // (connections.py): the app's own data layer too, and connections closed long before now.
    const record = await facts.identities()
    const recorded = identityFindings(record, expected, settings.allowedRoles)
    problems.push(...recorded.problems)
    lines.push(...recorded.lines)
    // 1c. The sessions of the worker's process tree sampled in pg_stat_activity from spawn to now:
    // what went around the in-process hooks (libpq through ctypes, a psql subprocess, asyncpg).
    const sampled = sampledFindings(await facts.sampledSessions(), expected, settings.allowedRoles)
    problems.push(...sampled.problems)
    lines.push(...sampled.lines)
    for (const [role, uses] of sampled.usedBy) recorded.usedBy.set(role, [...(recorded.usedBy.get(role) ?? []), ...uses])

    // 2. What the roles may do: the ones used during the run and the ones the app configures
    // (configured.py: DATABASES, engines, DSN-shaped settings and environment), used or not.
    const observed = sessions.rows.map((r) => r.usename).filter((u): u is string => !!u)
    const used = new Set([...observed, ...recorded.usedBy.keys()])
    const roleNames = [...new Set([expected, ...used, ...configuredRoles(record.configured)])]
    const roles = await roleInfo(db, roleNames)
    const target = record.configured?.identities.length ? await targetOf(db, facts, settings) : undefined
    const configured = configuredFindings(record.configured, expected, settings.allowedRoles, used, target, new Set(roles.map((r) => r.name)))
    problems.push(...configured.problems)
    lines.push(...configured.lines)
    const context = (role: string): string => roleContext(role, used, recorded.usedBy, configured.configuredAt)
    const expectedRole = roles.find((r) => r.name === expected)
    if (!expectedRole) problems.push(`role ${expected} does not exist`)
    for (const role of roles) problems.push(...roleProblems(role).map((p) => p + context(role.name)))
    if (expectedRole && !roleProblems(expectedRole).length) lines.push(`${expected}: NOSUPERUSER NOBYPASSRLS`)

    // 3. Tenant tables: RLS enabled, forced, and active for the expected role.
    const tables = settings.tenantTables ? await namedTenantTables(db, settings.tenantTables) : await discoverTenantTables(db)
    const malformed = tables.filter((t) => t.malformed !== undefined)
    const wellFormed = tables.filter((t) => t.malformed === undefined)
    const tableCheck = expectedRole ? await checkTenantTables(db, wellFormed, expectedRole) : { problems: [], ok: [] }
    const skipped = malformed.map((t) => malformedEntryFinding(t.name, t.malformed as string))

    // 4. Ownership: the owner of a tenant table (or a member of the owner role) can switch its RLS
    // off whenever it likes; that fails. Owning the broker/result tables is said, not failed.
    const judged = roles.filter((r) => !r.superuser).map((r) => r.name)
    const tenantNames = wellFormed.filter((t) => t.exists).map((t) => t.qualifiedName as string)
    // A lookup PostgreSQL refuses (a schema the checking role may not use) must not hide the
    // other findings: the gate then says ownership was not checked, and cannot pass.
    const owned = await ownedTables(db, judged, [...tenantNames, ...(await brokerTables(facts))]).catch((err: Error) => err)
    const ownership =
      owned instanceof Error
        ? { problems: [`ownership of the tables not checked: ${facts.redact(owned.message.split('\n')[0] ?? '')}`], notes: [] }
        : ownershipFindings(owned, new Set(tenantNames), { expected, usedBy: recorded.usedBy, context })
    tableCheck.problems.push(...ownership.problems)

    problems.push(...skipped, ...tableCheck.problems)
    let status: 'pass' | 'warn' = sessions.checked ? 'pass' : 'warn'
    if (!wellFormed.length) {
      // Many real projects have no tenant table. Saying so as a warning on every run would be
      // permanent noise a user learns to ignore (and then misses a real one); the checks this gate
      // did make (the sessions' roles) still stand, so it passes and says, in its evidence, what it
      // did not check and how to turn that on. tenant-tables given but not one table name among
      // its entries is a mistake of the user, failed above through `skipped`.
      if (settings.tenantTables) status = 'warn'
      lines.push(
        settings.tenantTables
          ? 'no tenant table to check: no entry of tenant-tables is a table name'
          : 'no tenant table: RLS not checked (set tenant-tables, or add a tenant_id column)'
      )
    } else if (tableCheck.ok.length)
      lines.push(
        `RLS enabled, forced and active for ${expected}: ${listWithMore(tableCheck.ok, { noun: ['table', 'tables'], where: "see the gate's details" })}`
      )

    // A database can have thousands of tenant tables, each with a problem: the evidence shows the
    // first few and says how many more; the details list every table (bounded in src/report/limits.ts).
    lines.push(...ownership.notes)
    const details = detailsOf(sessions.rows, tableCheck, skipped)
    if (problems.length)
      return gateOutcome('fail', [...linesWithMore(problems, { noun: ['problem', 'problems'], where: "see the gate's details" }), ...lines].join('\n'), details)
    return gateOutcome(status, lines.join('\n'), details)
  }
}

/**
 * The recorded identities judged by the same rule as the sessions (expected-role or allowed-roles),
 * each said with where it was opened and how often; `usedBy` maps a role to those descriptions so
 * the role's other findings (SUPERUSER, owner …) say where it was used.
 */
export function identityFindings(
  record: IdentityRecord,
  expected: string,
  allowedRoles: readonly string[],
  label = "connections the worker's processes opened (recorded in-process)"
): { problems: string[]; lines: string[]; usedBy: Map<string, string[]> } {
  const problems: string[] = []
  const lines: string[] = []
  const usedBy = new Map<string, string[]>()
  const allowed = new Set([expected, ...allowedRoles])
  const also = allowedRoles.length ? ` or one of allowed-roles (${allowedRoles.join(', ')})` : ''
  for (const i of record.identities) {
    const text = describeIdentity(i)
    usedBy.set(i.role, [...(usedBy.get(i.role) ?? []), text])
    if (!allowed.has(i.role)) problems.push(`${text}, expected ${expected}${also}: connect it as ${expected}, or add a role meant for it to allowed-roles`)
  }
  if (record.identities.length)
    lines.push(`${label}: ${listWithMore(record.identities.map(describeIdentity), { separator: '; ', noun: ['identity', 'identities'] })}`)
  if (record.rejected) lines.push(`⚠️ ${formatCount(record.rejected)} entries of the connection record were not understood and were ignored`)
  if (record.truncated) lines.push(`⚠️ the connection record was cut at ${CONNECTIONS_MAX_BYTES / 1024 / 1024} MiB: connections after that are not judged`)
  return { problems, lines, usedBy }
}

/** The sampled sessions, judged by the same rule, with how many samples saw them and what was not kept. */
export function sampledFindings(
  record: SampledRecord,
  expected: string,
  allowedRoles: readonly string[]
): { problems: string[]; lines: string[]; usedBy: Map<string, string[]> } {
  const asRecord: IdentityRecord = { identities: record.identities, rejected: 0, truncated: false, missing: false }
  const label = `sessions of the worker's processes sampled in pg_stat_activity (${formatCount(record.samples)} sample${record.samples === 1 ? '' : 's'} during the run)`
  const out = identityFindings(asRecord, expected, allowedRoles, label)
  if (record.dropped) out.lines.push(`⚠️ ${formatCount(record.dropped)} more sampled sessions were not kept (bound reached)`)
  if (record.note) out.lines.push(`sessions not sampled during the run: ${record.note}`)
  if (record.unattributed) out.lines.push(`⚠️ ${record.unattributed}`)
  return out
}

/** The checked server (compared with each configured identity's); undefined if it cannot say. */
async function targetOf(db: Database, facts: GateFacts, settings: Settings): Promise<CheckedTarget | undefined> {
  const plane = await facts.dataPlane()
  const dsn = settings.databaseUrlParts ?? (plane?.ok ? plane.plane.broker.parts : undefined)
  return checkedTarget(db, dsn).catch(() => undefined)
}

async function findWorkerSessions(db: Database, facts: GateFacts): Promise<{ checked: boolean; reason?: string; rows: SessionRow[] }> {
  if (!facts.workerRunning()) return { checked: false, reason: 'the worker is not running', rows: [] }
  const plane = await facts.dataPlane()
  const port = plane?.ok ? (plane.plane.broker.parts.port ?? 5432) : 5432
  // Sessions are found by the run's application_name and, for DSNs that set their own, by the
  // TCP ports the worker's processes hold (visible to the same role or pg_read_all_stats).
  const ports = localPortsTo(facts.workerProcessIds(), port)
  const rows = await workerSessions(db, facts.ids.applicationName, ports)
  return { checked: true, rows }
}

function roleProblems(role: RoleInfo): string[] {
  const out: string[] = []
  const name = quoteIdent(role.name)
  // PostgreSQL (16+) refuses NOSUPERUSER for the bootstrap superuser, and on older servers taking
  // it would leave the cluster without the role initdb made: the fix is another role.
  if (role.superuser && role.bootstrap)
    out.push(
      `${role.name} is SUPERUSER: it bypasses row-level security — it is the bootstrap superuser, for which PostgreSQL refuses ALTER ROLE ${name} NOSUPERUSER: connect the worker as a dedicated least-privilege role instead (LOGIN, NOSUPERUSER, NOBYPASSRLS, DML grants only; see db-access) and set expected-role to it`
    )
  else if (role.superuser) out.push(`${role.name} is SUPERUSER: it bypasses row-level security — ALTER ROLE ${name} NOSUPERUSER`)
  // The bootstrap superuser's only fix is another role (above); ALTER ROLE on it is not one.
  if (role.bypassRls && !(role.superuser && role.bootstrap))
    out.push(`${role.name} has BYPASSRLS: it bypasses row-level security — ALTER ROLE ${name} NOBYPASSRLS`)
  if (role.privilegedMemberships.length)
    out.push(
      `${role.name} is a member of ${role.privilegedMemberships.join(', ')} (SUPERUSER or BYPASSRLS): it can SET ROLE and bypass row-level security — REVOKE ${role.privilegedMemberships.map(quoteIdent).join(', ')} FROM ${name}`
    )
  return out
}

/** The broker's and result backend's tables as the app configures them (the probe), quoted. */
async function brokerTables(facts: GateFacts): Promise<string[]> {
  const probe = await facts.probe()
  if (!probe.ok) return []
  const t = probe.probe.tables
  return [qualified(t.queue), qualified(t.message), qualified(t.task, t.task_schema), qualified(t.group, t.group_schema)]
}

/** Placeholder the user replaces: quoted, so the statement as printed fails rather than guesses a role. */
const MIGRATION_ROLE = '"<migration role>"'
const OWNER_FIX = `(replace ${MIGRATION_ROLE} with the role that runs your migrations, one the worker does not use and is not a member of)`

/**
 * A tenant table the worker's role owns, or owns through a role it is a member of, is a failure
 * per table (the owner can ALTER TABLE … NO FORCE / DISABLE ROW LEVEL SECURITY and read every
 * tenant's rows). The broker/result tables are a note per role: their owner can DROP, TRUNCATE or
 * ALTER them (one bad task loses every queued message and result), but the worker still works
 * and no tenant's rows are exposed, so it does not fail the gate.
 */
export function ownershipFindings(
  owned: OwnedTable[],
  tenant: Set<string>,
  used: { expected?: string; usedBy?: Map<string, string[]>; context?: (role: string) => string } = {}
): { problems: string[]; notes: string[] } {
  const problems: string[] = []
  const plane = new Map<string, OwnedTable[]>()
  for (const o of owned) {
    if (!tenant.has(o.table)) {
      plane.set(o.role, [...(plane.get(o.role) ?? []), o])
      continue
    }
    const how = o.direct
      ? `${o.role} owns tenant table ${o.table}`
      : `${o.role} is a member of ${o.owner}, the owner of tenant table ${o.table} (it can SET ROLE ${o.owner})`
    const risk = "an owner can ALTER TABLE … NO FORCE or DISABLE ROW LEVEL SECURITY at any time and read every tenant's rows"
    // The migration role itself, used by the app's code (its data layer logs in as the owner):
    // the fix is the connection, not the table's owner.
    const context = used.context?.(o.role) ?? ''
    const uses = o.role !== used.expected ? used.usedBy?.get(o.role) : undefined
    if (uses && used.expected && o.direct)
      problems.push(
        `${how}${context || ` (used by ${uses.join('; ')})`}: ${risk} — connect that code as ${used.expected}; the table's owner stays a migration role that the app never logs in as`
      )
    else
      problems.push(
        `${how}: ${risk} — ALTER TABLE ${o.sqlName} OWNER TO ${MIGRATION_ROLE} ${OWNER_FIX}${o.direct ? '' : `, or REVOKE ${quoteIdent(o.owner)} FROM ${quoteIdent(o.role)}`}${context}`
      )
  }
  const notes = [...plane].map(([role, tables]) => {
    const owners = [...new Set(tables.filter((t) => !t.direct).map((t) => t.owner))]
    const how = owners.length ? `${role} may act as the owner (member of ${owners.join(', ')}) of` : `${role} owns`
    return `⚠️ ${how} the broker/result tables ${tables.map((t) => t.table).join(', ')}: an owner can DROP, TRUNCATE or ALTER them, so one faulty task can lose every queued message and result (not a failure; ALTER TABLE … OWNER TO ${MIGRATION_ROLE} and keep the grants db-access lists)`
  })
  return { problems, notes }
}

interface TableCheck {
  problems: string[]
  ok: string[]
}

async function checkTenantTables(db: Database, tables: TenantTable[], role: RoleInfo): Promise<TableCheck> {
  const problems: string[] = []
  const ok: string[] = []
  const asCurrent =
    db.role === role.name
      ? await rowSecurityActiveAsCurrentUser(
          db,
          tables.filter((t) => t.exists).map((t) => t.qualifiedName as string)
        )
      : undefined
  for (const t of tables) {
    const name = t.qualifiedName ?? t.name
    if (!t.exists) {
      problems.push(`tenant table ${t.name} does not exist`)
      continue
    }
    const sql = t.sqlName ?? name
    if (!t.rlsEnabled) {
      problems.push(`${name}: row-level security is not enabled (ALTER TABLE ${sql} ENABLE ROW LEVEL SECURITY)`)
      continue
    }
    if (!t.rlsForced) {
      problems.push(`${name}: RLS is enabled but not forced, so its owner ${t.owner ?? ''} bypasses it (ALTER TABLE ${sql} FORCE ROW LEVEL SECURITY)`)
      continue
    }
    const active = asCurrent?.get(name) ?? rowSecurityActiveFor(t, role)
    // A SUPERUSER or BYPASSRLS role is already reported; repeating it per table adds nothing.
    if (!active && (role.superuser || role.bypassRls)) continue
    if (!active) {
      problems.push(`${name}: row security is not active for ${role.name}`)
      continue
    }
    ok.push(t.policies ? name : `${name} (no policy: denies every row)`)
  }
  return { problems, ok }
}

/** The sessions found, then every tenant table's finding (the evidence shows the first few). */
function detailsOf(rows: SessionRow[], tables: TableCheck, skipped: string[]): string | undefined {
  const parts: string[] = []
  if (rows.length)
    parts.push(
      rows
        .map((r) => `pid ${r.pid} ${r.usename ?? '?'} application_name=${r.application_name ?? ''} client_port=${r.client_port ?? ''} ${r.backend_type ?? ''}`)
        .join('\n')
    )
  if (tables.problems.length > EVIDENCE_LIST_ITEMS || tables.ok.length > EVIDENCE_LIST_ITEMS || skipped.length > EVIDENCE_LIST_ITEMS) {
    const counts = `${formatCount(tables.problems.length)} with a problem, ${formatCount(tables.ok.length)} fine${skipped.length ? `, ${formatCount(skipped.length)} entries skipped (not table names)` : ''}`
    parts.push([`Tenant tables: ${counts}`, ...skipped, ...tables.problems, ...tables.ok.map((n) => `ok: ${n}`)].join('\n'))
  }
  return parts.length ? parts.join('\n\n') : undefined
}
