import type { ProbeReport } from '../celery/probe.js'
import { checkPrivileges, existingRoles, type PrivilegeCheck, type PrivilegeNeed } from '../db/catalog.js'
import { objectsOf, privilegeNeeds } from '../db/privileges.js'
import { qualified, quoteIdent, type Database } from '../db/database.js'
import { redactDsn } from '../db/dsn.js'
import type { DataPlane } from '../celery/data-plane.js'
import { connectForChecks, gateOutcome, type Gate } from './gate.js'
import { schemaDrift } from './table-drift.js'
import { pgmqAccess, pgmqDetails, withoutSqlaBroker } from './db-access-pgmq.js'

export const dbAccessGate: Gate = {
  id: 'db-access',
  title: 'DB Accessibility',
  description: "Broker and result tables and their sequences exist, the worker's role holds each privilege it needs, the ping's result persisted",
  foundation: true,
  needs: ['broker-config'],
  async run({ settings, facts }) {
    const [probeOutcome, check] = [await facts.probe(), await facts.dataPlane()]
    if (!probeOutcome.ok || !check?.ok) return gateOutcome('fail', 'no PostgreSQL data plane to check')
    const probe = probeOutcome.probe
    const shown = settings.databaseUrl ? `database-url (${redactDsn(settings.databaseUrl)})` : `the broker's database (${check.plane.broker.redacted})`
    const connected = await connectForChecks(facts, `to ${shown}`)
    if ('outcome' in connected) return connected.outcome
    const { db } = connected

    const [{ db: dbName }] = (await db.query<{ db: string }>('SELECT current_database() AS db')) as [{ db: string }]
    const expectedDb = check.plane.broker.parts.database
    if (expectedDb && dbName !== expectedDb)
      return gateOutcome(
        'fail',
        `database-url points at database ${dbName}, but the broker's tables are in ${expectedDb}: point database-url at the broker's database`
      )

    // On PGMQ the broker is schema pgmq (db-access-pgmq.ts), the result backend the same tables.
    const pgmq = check.plane.kind === 'pgmq'
    const pgmqRole = check.plane.broker.parts.username || db.role
    const needs = withoutSqlaBroker(needsOf(probe, check.plane, db.role), probe, pgmq)
    const roles = [...new Set([...needs.map((n) => n.role), ...(pgmq ? [pgmqRole] : [])])]
    const present = await existingRoles(db, roles)
    const missingRoles = roles.filter((r) => !present.has(r))
    if (missingRoles.length) return gateOutcome('fail', `role ${missingRoles.join(', ')} does not exist in ${dbName}`)

    const checks = await checkPrivileges(db, needs)
    const onPgmq = pgmq ? await pgmqAccess(db, probe, pgmqRole, facts.ids.queue, facts.ids.nodeName) : undefined
    const lines: string[] = [...(onPgmq?.lines ?? [])]
    const problems: string[] = [...(onPgmq?.problems ?? [])]
    const missingObjects = [...new Set(checks.filter((c) => !c.exists).map((c) => c.object))]
    for (const o of missingObjects) problems.push(`${o} does not exist`)
    const denied = checks.filter((c) => c.exists && !c.granted)
    for (const c of denied)
      problems.push(
        `${c.role} lacks ${c.privilege}${c.orPrivilege ? ` (or ${c.orPrivilege})` : ''} on ${c.object}: ${c.why} — GRANT ${c.privilege} ON ${c.kind === 'sequence' ? 'SEQUENCE ' : ''}${c.regclass} TO ${quoteIdent(c.role)}`
      )

    const objects = new Set(checks.map((c) => c.object)).size
    const granted = checks.filter((c) => c.granted).length
    lines.push(`${objects - missingObjects.length} of ${objects} tables and sequences present in ${dbName}`)
    lines.push(`${granted} of ${checks.length} needed privileges held (${roles.join(', ')}; one privilege per check)`)

    // Columns the installed packages' models have and the tables lack come first: they are why
    // the worker fails, where a privilege check alone would pass.
    const drift = await schemaDrift(db, probe, roles)
    // A missing sequence drift names with its fix needs no second "does not exist" line.
    const explained = new Set(drift.covered.map((o) => `${o} does not exist`))
    problems.splice(0, problems.length, ...drift.problems, ...problems.filter((p) => !explained.has(p)))
    if (!drift.problems.length && !drift.warnings.length && drift.summary) lines.push(drift.summary)

    const persisted = await resultPersisted(db, probe, facts.ids.taskId, (await facts.ping()).kind === 'pong')
    lines.push(persisted.line)
    if (persisted.problem) problems.push(persisted.problem)

    const details = [detailsOf(checks), ...(onPgmq ? [pgmqDetails(onPgmq.checks)] : [])].filter(Boolean).join('\n')
    if (problems.length)
      return gateOutcome('fail', [...problems.slice(0, 6), ...(problems.length > 6 ? [`… and ${problems.length - 6} more`] : [])].join('\n'), details)
    if (drift.warnings.length) return gateOutcome('warn', [...drift.warnings.slice(0, 6), ...lines].join('\n'), details)
    return gateOutcome('pass', lines.join('\n'), details)
  }
}

/** The privileges list lives in db/privileges.ts (also the `sql` command's grants and README's table). */
function needsOf(probe: ProbeReport, plane: DataPlane, fallbackRole: string): PrivilegeNeed[] {
  return privilegeNeeds(objectsOf(probe.tables), {
    broker: plane.broker.parts.username || fallbackRole,
    results: plane.backend.parts.username || fallbackRole
  })
}

async function resultPersisted(db: Database, probe: ProbeReport, taskId: string, ponged: boolean): Promise<{ line: string; problem?: string }> {
  if (!ponged) return { line: 'result row not checked: the ping was not answered' }
  const rows = await db.query<{ status: string; date_done: Date | null }>(
    `SELECT status, date_done FROM ${qualified(probe.tables.task, probe.tables.task_schema)} WHERE task_id = $1`,
    [taskId]
  )
  const row = rows[0]
  if (!row) return { line: '', problem: `the ping's result row ${taskId} is not visible from a separate session (not committed?)` }
  return { line: `result row of the ping persisted: ${row.status} (read back in a separate session)` }
}

function detailsOf(checks: PrivilegeCheck[]): string {
  const rows = checks.map(
    (c) =>
      `${c.granted ? 'ok     ' : c.exists ? 'MISSING' : 'ABSENT '} ${c.role} ${c.privilege}${c.orPrivilege ? `|${c.orPrivilege}` : ''} on ${c.kind} ${c.object}`
  )
  return rows.join('\n')
}
