// What kills a worker at boot on kombu's PGMQ transport whatever its privileges: PGMQ missing,
// kombu's `CREATE EXTENSION IF NOT EXISTS pgmq CASCADE` (init_extension, on by default) where it
// cannot succeed, a queue name PGMQ refuses, a queue table another role owns. Asked by the PGMQ
// plane for broker-config (before the worker dies of it) and by db-access with the privileges.
import type { Database } from '../db/database.js'
import { quoteIdent } from '../db/database.js'
import { extensionRights, pgmqInstall, queueTableOwners, type PgmqInstall } from '../db/pgmq-catalog.js'
import { queueNameProblem, queueTables } from '../db/pgmq-privileges.js'
import { pgmqQueueName, pidboxQueue } from './envelope.js'

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
    const name = pgmqQueueName(prefix, q)
    const problem = queueNameProblem(name)
    if (problem)
      out.push(
        `queue ${q} is ${name} in PGMQ, ${problem}: the worker exits at boot ("queue name is too long, maximum length is 47 characters") — shorten the queue name${prefix ? ' or queue_name_prefix' : ''}`
      )
  }
  if (queues.nodeName) {
    const name = pidboxQueue(prefix, queues.nodeName)
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
    const t = queueTables(pgmqQueueName(prefix, q))
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
