// db-access on kombu's PGMQ transport (pgmq://): PGMQ installed (extension or SQL-only), what
// kombu will do to it at boot (init_extension, queue names, pgmq.create on each queue), and each
// privilege the worker's role needs on it, one check at a time. pgmqBootProblems is what kills
// the worker at boot before any privilege matters, so broker-config can ask it before the boot.
import type { ProbeReport } from '../celery/probe.js'
import type { Database } from '../db/database.js'
import { checkPgmqNeeds, queueTableOwners, type PgmqNeedCheck } from '../db/pgmq-catalog.js'
import { grantFor, PGMQ_NEEDS, queueTables } from '../db/pgmq-privileges.js'
import { pgmqQueueName } from '../planes/envelope.js'
import { pgmqBootProblems, type PgmqFindings } from '../planes/pgmq-boot.js'

/**
 * The sqla needs without kombu's broker tables and their sequences when the broker is PGMQ (the
 * result tables stay: Celery's database backend is the same on both).
 */
export function withoutSqlaBroker<N extends { object: string }>(needs: N[], probe: ProbeReport, pgmq: boolean): N[] {
  if (!pgmq) return needs
  const broker = new Set([probe.tables.queue, probe.tables.message, 'queue_id_sequence', 'message_id_sequence'])
  return needs.filter((n) => !broker.has(n.object))
}

export interface PgmqAccess extends PgmqFindings {
  checks: PgmqNeedCheck[]
}

/** Everything db-access checks on PGMQ for the worker's role (the broker URL's user). */
export async function pgmqAccess(db: Database, probe: ProbeReport, role: string, runQueue?: string, nodeName?: string): Promise<PgmqAccess> {
  const options = probe.broker.pgmq ?? undefined
  const consumed = probe.consumed_queues ?? probe.default_consumed_queues ?? []
  const boot = await pgmqBootProblems(db, options, role, { consumed, nodeName, perRun: runQueue ? [runQueue] : [] })
  const { problems, lines } = boot
  if (!boot.install.schema) return { ...boot, checks: [] }

  const checks = await checkPgmqNeeds(db, role, PGMQ_NEEDS)
  for (const c of checks.filter((c) => !c.exists))
    problems.push(
      `${c.object} does not exist in PGMQ's install: kombu ${probe.versions.kombu ?? ''} calls it (${c.why}) — install a PGMQ that has it (1.13.0 is tested)`
    )
  for (const c of checks.filter((c) => c.exists && !c.granted))
    problems.push(`${role} lacks ${c.privilege} on ${c.kind} ${c.object}: ${c.why}${c.without ? ` (without it ${c.without})` : ''} — ${grantFor(c, role)}`)
  const held = checks.filter((c) => c.granted).length
  lines.push(`${held} of ${checks.length} PGMQ privileges held by ${role} (one privilege per check)`)
  lines.push(await queueTablesLine(db, role, options?.queue_name_prefix ?? '', consumed, runQueue))
  return { ...boot, checks }
}

async function queueTablesLine(db: Database, role: string, prefix: string, consumed: readonly string[], runQueue?: string): Promise<string> {
  const names = consumed.filter((q) => q !== runQueue).map((q) => pgmqQueueName(prefix, q))
  const tables = names.flatMap((n) => Object.values(queueTables(n)))
  const found = await queueTableOwners(db, role, tables)
  const owned = found.filter((o) => o.ownedByRole).length
  const absent = tables.length - found.length
  return `queue tables of ${names.join(', ') || 'no queues'}: ${owned} owned by ${role}${absent ? `, ${absent} to be created by it (CREATE on schema pgmq)` : ''}`
}

export function pgmqDetails(checks: readonly PgmqNeedCheck[]): string {
  return checks.map((c) => `${c.granted ? 'ok     ' : c.exists ? 'MISSING' : 'ABSENT '} ${c.role} ${c.privilege} on ${c.kind} ${c.object}`).join('\n')
}
