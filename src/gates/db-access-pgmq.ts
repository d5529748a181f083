// db-access on kombu's PGMQ transport (pgmq://): PGMQ installed (extension or SQL-only), what
// kombu will do to it at boot (init_extension, queue names, pgmq.create on each queue), and each
// privilege the worker's role needs on it, one check at a time. pgmqBootProblems is what kills
// the worker at boot before any privilege matters, so broker-config can ask it before the boot.
import type { ProbeReport } from '../celery/probe.js'
import type { Database } from '../db/database.js'
import { quoteIdent } from '../db/database.js'
import { checkPgmqNeeds, extensionRights, pgmqInstall, queueTableOwners, type PgmqInstall, type PgmqNeedCheck } from '../db/pgmq-catalog.js'
import { grantFor, PGMQ_NEEDS, pgmqQueueName, pidboxQueue, queueNameProblem, queueTables } from '../db/pgmq-privileges.js'

/**
 * The sqla needs without kombu's broker tables and their sequences when the broker is PGMQ (the
 * result tables stay: Celery's database backend is the same on both).
 */
export function withoutSqlaBroker<N extends { object: string }>(needs: N[], probe: ProbeReport, pgmq: boolean): N[] {
  if (!pgmq) return needs
  const broker = new Set([probe.tables.queue, probe.tables.message, 'queue_id_sequence', 'message_id_sequence'])
  return needs.filter((n) => !broker.has(n.object))
}

/** kombu's PGMQ transport options as the probe reports them (bootstrap.py, pgmq_probe.py). */
export interface PgmqOptions {
  init_extension?: boolean
  queue_name_prefix?: string
  /** conn_string is set (it overrides the URL); never its value. */
  conn_string?: boolean | null
  package?: string | null
  bundled_sql?: string | null
}

export interface PgmqQueues {
  /** The Celery queues the worker consumes (its -Q), each declared with pgmq.create() at boot. */
  consumed: readonly string[]
  /** The worker's node name: its pidbox queue is declared too. */
  nodeName?: string
  /** Queues named per run (the run's own queue): their tables are new each run, not checked for owners. */
  perRun?: readonly string[]
}

export interface PgmqFindings {
  install: PgmqInstall
  problems: string[]
  lines: string[]
}

const FIX_INIT = 'set broker_transport_options={"init_extension": False} (PGMQ is installed by its owner, not by the worker)'

export function installAdvice(database: string): string {
  return (
    `install PGMQ in ${database} as its owner: CREATE EXTENSION pgmq (where the server has the extension), ` +
    `or the pgmq package's SQL-only install: python -c "import pgmq.install as i; i.install_pgmq_from_sql(dsn='postgresql://OWNER@HOST/${database}')"`
  )
}

export function describeInstall(install: PgmqInstall, options?: PgmqOptions | null): string {
  if (install.extension) return `PGMQ ${install.extension.version} (extension, owner ${install.extension.owner})`
  const bundled = options?.bundled_sql ? `; the worker's pgmq package${options.package ? ` ${options.package}` : ''} bundles PGMQ ${options.bundled_sql}` : ''
  return `PGMQ SQL-only install (schema pgmq, ${install.functions} functions; no version recorded in the database${bundled})`
}

/**
 * What kills the worker at boot on PGMQ whatever its privileges: PGMQ missing, kombu's
 * `CREATE EXTENSION IF NOT EXISTS pgmq CASCADE` (init_extension, on by default) where it cannot
 * succeed, a queue name PGMQ refuses, a queue table another role owns. `role` is the worker's.
 */
export async function pgmqBootProblems(db: Database, options: PgmqOptions | null | undefined, role: string, queues?: PgmqQueues): Promise<PgmqFindings> {
  const install = await pgmqInstall(db)
  const problems: string[] = []
  const lines: string[] = []
  const initOn = options?.init_extension ?? true
  const rights = await extensionRights(db, role)
  const dbName = rights.database

  if (install.extension) {
    lines.push(describeInstall(install, options))
    if (initOn) lines.push('init_extension on: CREATE EXTENSION IF NOT EXISTS pgmq is a no-op where the extension is installed')
  } else if (install.schema && install.functions > 0) {
    lines.push(describeInstall(install, options))
    if (initOn)
      problems.push(
        install.available
          ? `init_extension is on (kombu's default) and PGMQ is a SQL-only install: the worker's CREATE EXTENSION IF NOT EXISTS pgmq CASCADE runs PGMQ's script over it and fails ('table meta is not a member of extension "pgmq"'), and the worker retries connecting without end — ${FIX_INIT}`
          : `init_extension is on (kombu's default) and PGMQ is a SQL-only install on a server without the pgmq extension: the worker's CREATE EXTENSION IF NOT EXISTS pgmq CASCADE exits it at boot ('extension "pgmq" is not available'), whatever its role — ${FIX_INIT}`
      )
  } else {
    const what = install.schema ? `schema pgmq in ${dbName} has no PGMQ functions` : `PGMQ is not installed in ${dbName} (no schema pgmq)`
    if (!initOn) problems.push(`${what}: kombu's pgmq:// transport needs it — ${installAdvice(dbName)}`)
    else if (!install.available)
      problems.push(
        `${what}, and the server has no pgmq extension: the worker's CREATE EXTENSION (init_extension on, kombu's default) exits it at boot ('extension "pgmq" is not available') — ${installAdvice(dbName)}, then ${FIX_INIT}`
      )
    else {
      const may = rights.superuser || (rights.createOnDatabase && (!install.available.superuser || install.available.trusted))
      const needs = install.available.superuser && !install.available.trusted ? 'a superuser' : `CREATE on database ${dbName}`
      if (may) lines.push(`${what}; init_extension on: the worker's role ${role} will create extension pgmq ${install.available.version} at boot (and own it)`)
      else
        problems.push(
          `${what}, and the worker's role ${role} may not create extension pgmq (needs ${needs}): the worker's CREATE EXTENSION (init_extension on, kombu's default) exits it at boot ` +
            `("permission denied for database ${dbName}") — have the database owner run CREATE EXTENSION pgmq, then ${FIX_INIT}`
        )
    }
  }
  if (options?.conn_string)
    lines.push("conn_string is set in broker_transport_options: the worker connects with it, not the broker URL; checked: the broker URL's database")

  problems.push(...queueNameProblems(options, queues))
  if (install.schema && queues) problems.push(...(await foreignQueueTables(db, role, options, queues)))
  return { install, problems, lines }
}

function queueNameProblems(options: PgmqOptions | null | undefined, queues?: PgmqQueues): string[] {
  if (!queues) return []
  const prefix = options?.queue_name_prefix ?? ''
  const out: string[] = []
  for (const q of queues.consumed) {
    const name = pgmqQueueName(q, prefix)
    const problem = queueNameProblem(name)
    if (problem)
      out.push(
        `queue ${q} is ${name} in PGMQ, ${problem}: the worker exits at boot ("queue name is too long, maximum length is 47 characters") — shorten the queue name${prefix ? ' or queue_name_prefix' : ''}`
      )
  }
  if (queues.nodeName) {
    const name = pgmqQueueName(pidboxQueue(queues.nodeName), prefix)
    const problem = queueNameProblem(name)
    if (problem)
      out.push(
        `the worker's pidbox queue ${name} (from its node name ${queues.nodeName}) is ${problem}: the worker exits at boot ("queue name is too long, maximum length is 47 characters") — give the worker a shorter node name (-n name@host)`
      )
  }
  return out
}

async function foreignQueueTables(db: Database, role: string, options: PgmqOptions | null | undefined, queues: PgmqQueues): Promise<string[]> {
  const prefix = options?.queue_name_prefix ?? ''
  const perRun = new Set(queues.perRun ?? [])
  const byTable = new Map<string, string>()
  for (const q of queues.consumed) {
    if (perRun.has(q)) continue
    const t = queueTables(pgmqQueueName(q, prefix))
    byTable.set(t.queue, q).set(t.archive, q)
  }
  const owners = await queueTableOwners(db, role, [...byTable.keys()])
  return owners
    .filter((o) => !o.ownedByRole)
    .map(
      (o) =>
        `pgmq.${o.table} (queue ${byTable.get(o.table)}) is owned by ${o.owner}, not by the worker's role ${role}: kombu runs pgmq.create() for every queue it declares, ` +
        `and its CREATE INDEX IF NOT EXISTS needs the owner — the worker exits at boot ("must be owner of table ${o.table}") — ALTER TABLE pgmq.${quoteIdent(o.table)} OWNER TO ${quoteIdent(role)}`
    )
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
  const names = consumed.filter((q) => q !== runQueue).map((q) => pgmqQueueName(q, prefix))
  const tables = names.flatMap((n) => Object.values(queueTables(n)))
  const found = await queueTableOwners(db, role, tables)
  const owned = found.filter((o) => o.ownedByRole).length
  const absent = tables.length - found.length
  return `queue tables of ${names.join(', ') || 'no queues'}: ${owned} owned by ${role}${absent ? `, ${absent} to be created by it (CREATE on schema pgmq)` : ''}`
}

export function pgmqDetails(checks: readonly PgmqNeedCheck[]): string {
  return checks.map((c) => `${c.granted ? 'ok     ' : c.exists ? 'MISSING' : 'ABSENT '} ${c.role} ${c.privilege} on ${c.kind} ${c.object}`).join('\n')
}
