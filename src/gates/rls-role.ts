import {
  discoverTenantTables,
  namedTenantTables,
  roleInfo,
  rowSecurityActiveAsCurrentUser,
  rowSecurityActiveFor,
  workerSessions,
  type RoleInfo,
  type SessionRow,
  type TenantTable
} from '../db/catalog.js'
import type { Database } from '../db/database.js'
import { malformedEntryFinding } from '../db/table-name.js'
import { localPortsTo } from '../proc/process-tree.js'
import { EVIDENCE_LIST_ITEMS, formatCount, linesWithMore, listWithMore } from '../util/bounded.js'
import { quoteIdent } from '../util/quote.js'
import type { GateFacts } from './facts.js'
import { connectForChecks, verdict, type Gate } from './gate.js'

export const rlsRoleGate: Gate = {
  id: 'rls-role',
  title: 'RLS/Role',
  description: 'Every worker session uses the expected role, which is neither superuser nor BYPASSRLS; tenant tables have RLS enabled and forced',
  foundation: true,
  needs: ['broker-config'],
  async run({ settings, facts }) {
    const connected = await connectForChecks(facts, 'to check roles')
    if ('verdict' in connected) return connected.verdict
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
      else if (users.some((u) => u !== expected)) problems.push(`the worker's sessions use role ${users.join(', ')}, expected ${expected}`)
      else lines.push(`${sessions.rows.length} session${sessions.rows.length > 1 ? 's' : ''} of ${facts.ids.nodeName} in pg_stat_activity, all ${expected}`)
    } else lines.push(`sessions not checked: ${sessions.reason}`)
    // Without sessions to look at, the gate's first claim is unproven: at best mixed.

    // 2. What the roles may do.
    const observed = sessions.rows.map((r) => r.usename).filter((u): u is string => !!u)
    const roleNames = [...new Set([expected, ...observed])]
    const roles = await roleInfo(db, roleNames)
    const expectedRole = roles.find((r) => r.name === expected)
    if (!expectedRole) problems.push(`role ${expected} does not exist`)
    for (const role of roles) problems.push(...roleProblems(role))
    if (expectedRole && !roleProblems(expectedRole).length) lines.push(`${expected}: NOSUPERUSER NOBYPASSRLS`)

    // 3. Tenant tables: RLS enabled, forced, and active for the expected role.
    const tables = settings.tenantTables ? await namedTenantTables(db, settings.tenantTables) : await discoverTenantTables(db)
    const malformed = tables.filter((t) => t.malformed !== undefined)
    const wellFormed = tables.filter((t) => t.malformed === undefined)
    const tableCheck = expectedRole ? await checkTenantTables(db, wellFormed, expectedRole) : { problems: [], ok: [] }
    const skipped = malformed.map((t) => malformedEntryFinding(t.name, t.malformed as string))
    problems.push(...skipped, ...tableCheck.problems)
    let status: 'pass' | 'warn' = sessions.checked ? 'pass' : 'warn'
    if (!wellFormed.length) {
      status = 'warn'
      lines.push(
        settings.tenantTables
          ? 'no tenant table to check: no entry of tenant-tables is a table name'
          : 'no tenant table found (no table has a tenant_id column): RLS not checked; name them with tenant-tables'
      )
    } else if (tableCheck.ok.length)
      lines.push(
        `RLS enabled, forced and active for ${expected}: ${listWithMore(tableCheck.ok, { noun: ['table', 'tables'], where: "see the gate's details" })}`
      )

    // A database can have thousands of tenant tables, each with a problem: the evidence shows the
    // first few and says how many more; the details list every table (bounded in src/report/limits.ts).
    const details = detailsOf(sessions.rows, tableCheck, skipped)
    if (problems.length)
      return verdict('fail', [...linesWithMore(problems, { noun: ['problem', 'problems'], where: "see the gate's details" }), ...lines].join('\n'), details)
    return verdict(status, lines.join('\n'), details)
  }
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
  if (role.superuser) out.push(`${role.name} is SUPERUSER: it bypasses row-level security — ALTER ROLE ${name} NOSUPERUSER`)
  if (role.bypassRls) out.push(`${role.name} has BYPASSRLS: it bypasses row-level security — ALTER ROLE ${name} NOBYPASSRLS`)
  if (role.privilegedMemberships.length)
    out.push(
      `${role.name} is a member of ${role.privilegedMemberships.join(', ')} (SUPERUSER or BYPASSRLS): it can SET ROLE and bypass row-level security — REVOKE ${role.privilegedMemberships.map(quoteIdent).join(', ')} FROM ${name}`
    )
  return out
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
