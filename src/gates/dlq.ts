import { fullyQuotedTable, resolveTable } from '../db/catalog.js'
import { quoteIdent } from '../util/quote.js'
import type { Database } from '../db/database.js'
import { DLQ_ROW_GRACE_MS as ROW_GRACE_MS } from '../timing.js'
import { connectForChecks, gateOutcome, type Gate } from './gate.js'

export const dlqGate: Gate = {
  id: 'dlq',
  title: 'Dead letters',
  description: "Failed tasks land in the dead-letter table: it exists, the worker's role may insert, and a task failing on purpose leaves exactly one row",
  foundation: true,
  needs: ['broker-config'],
  needsFromWorker: ['probe-task'],
  async run({ settings, facts }) {
    const name = settings.dlqTable
    if (!name) return gateOutcome('skip', 'not configured: set dlq-table (and dlq-probe-task) to check the dead-letter table')
    const connected = await connectForChecks(facts, `to check ${name}`)
    if ('outcome' in connected) return connected.outcome
    const { db } = connected
    const table = await resolveTable(db, name)
    if (!table) return gateOutcome('fail', `dlq-table ${name} does not exist in ${(await db.query<{ d: string }>('SELECT current_database() AS d'))[0]?.d}`)
    const plane = await facts.dataPlane()
    const role = (plane?.ok && plane.plane.broker.parts.username) || db.role
    const [grant] = await db.query<{ ok: boolean }>('SELECT has_table_privilege($1, $2::regclass, $3) AS ok', [role, table, 'INSERT'])
    if (!grant?.ok)
      return gateOutcome(
        'fail',
        `${role} may not INSERT into ${table}, so failed tasks cannot be recorded — GRANT INSERT ON ${await fullyQuotedTable(db, table)} TO ${quoteIdent(role)}`
      )
    const lines = [`${table} exists and ${role} may INSERT into it`]

    const task = settings.dlqProbeTask
    if (!task) return gateOutcome('pass', [...lines, 'no probe sent (set dlq-probe-task to a task that fails on purpose)'].join('\n'))
    if (!(await facts.pingAnswered()))
      return gateOutcome('warn', [...lines, 'probe not checked: the worker never answered (`runtime` did not pass)'].join('\n'))
    const probe = (await facts.extras()).find((x) => x.purpose === 'probe')
    if (!probe) return gateOutcome('fail', [`the probe task ${task} could not be sent`, ...lines].join('\n'))
    if (probe.error) return gateOutcome('fail', [`Celery could not build the probe task ${task}: ${probe.error}`, ...lines].join('\n'))
    if (probe.status !== 'FAILURE')
      return gateOutcome(
        'fail',
        [
          probe.status ? `the probe task ${task} ended ${probe.status}: it must fail on purpose` : `the probe task ${task} did not finish in time`,
          ...lines
        ].join('\n')
      )
    const rows = await rowsMentioning(db, table, probe.taskId)
    if (rows !== 1)
      return gateOutcome(
        'fail',
        [`the probe task ${task} failed, and left ${rows} rows in ${table} (task id ${probe.taskId}): expected exactly one`, ...lines].join('\n')
      )
    return gateOutcome('pass', [...lines, `the probe task ${task} failed and left exactly one row (task id \`${probe.taskId}\`)`].join('\n'))
  }
}

/** Rows of the table whose contents mention the task id (no column names assumed), waited for briefly. */
async function rowsMentioning(db: Database, table: string, taskId: string): Promise<number> {
  const count = async (): Promise<number> =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} t WHERE strpos(to_jsonb(t)::text, $1) > 0`, [taskId]))[0]?.n ?? 0
  const until = performance.now() + ROW_GRACE_MS
  let rows = 0
  do {
    rows = await count()
    if (rows) {
      // A second row (a handler that writes twice) may follow the first closely: look once more.
      await new Promise((r) => setTimeout(r, 300))
      return count()
    }
    await new Promise((r) => setTimeout(r, 100))
  } while (performance.now() < until)
  return rows
}
