// Concurrency, load and masking, driven as the runner drives the action (node dist/index.js with
// INPUT_* variables) against a real PostgreSQL and real Celery 5.7 and 5.2 workers. Every step
// goes through checkStep (exit code, gates, evidence, time bound, summary and report written, no
// secret anywhere, no process left) and is recorded for RELIABILITY.md; each case also records one
// summary line with what it measured.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ActionResult, type CeleryVersion } from '../support/action.js'
import { exampleDatabase, runOnExample, type ExampleDatabase } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep, record } from '../support/reliability.js'

const LOAD = 'Concurrency and load'
const MASKING = 'Masking'
const SOLO = '--pool=solo'
const GATE_IDS = ['import', 'broker-config', 'runtime', 'db-access', 'rls-role', 'ci'] as const
const ALL_PASS = Object.fromEntries(GATE_IDS.map((id) => [id, 'pass']))
/** Where the worker's and the action's sessions are recognised in pg_stat_activity. */
const ACTION_APPLICATION_NAME = 'celery-foundation-gates'

let pg: TestPostgres

beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

const gates = (
  version: CeleryVersion,
  db: ExampleDatabase,
  inputs: Record<string, string> = {},
  env: Record<string, string> = { DATABASE_URL: db.url }
): Promise<ActionResult> => runOnExample(version, db, inputs, { env })

/** The password, the form it takes in the URL, and the whole DSN: none may appear anywhere. */
function secretsOf(db: ExampleDatabase): string[] {
  return [...new Set([db.password, encodeURIComponent(db.password), db.url])]
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * Runs checkStep for every step of one case, so that each is recorded before the case fails: a
 * problem in run 3 must not hide what runs 4 to 8 did. Returns the failed checks' errors.
 */
function checkSteps(checks: Array<() => void>): unknown[] {
  const errors: unknown[] = []
  for (const check of checks) {
    try {
      check()
    } catch (err) {
      errors.push(err)
    }
  }
  return errors
}

/**
 * Records the case's summary line (also when some of its steps failed checkStep), then fails the
 * test on the case's own problems or, failing those, on the first step that failed.
 */
function summarize(name: string, expectation: string, measured: string, problems: string[], stepErrors: unknown[] = []): void {
  const all = stepErrors.length ? [`${stepErrors.length} step(s) failed checkStep (see their rows)`, ...problems] : problems
  record({
    group: name.startsWith('masking') ? MASKING : LOAD,
    case: name,
    expectation,
    result: all.length ? `${measured} — PROBLEMS: ${all.join('; ')}` : measured,
    passed: !all.length
  })
  expect(problems, name).toEqual([])
  if (stepErrors.length) throw stepErrors[0]
}

interface TraceRows {
  queues: number
  messages: number
  results: number
  /** Every message row, of any queue (the default `celery` queue included). */
  allMessages: number
}

async function traceRows(database: string): Promise<TraceRows> {
  const rows = await pg.query<{ queues: number; messages: number; results: number; all_messages: number }>(
    database,
    `SELECT (SELECT count(*) FROM kombu_queue WHERE name LIKE 'cfg-%')::int AS queues,
            (SELECT count(*) FROM kombu_message m JOIN kombu_queue q ON q.id = m.queue_id WHERE q.name LIKE 'cfg-%')::int AS messages,
            (SELECT count(*) FROM celery_taskmeta)::int AS results,
            (SELECT count(*) FROM kombu_message)::int AS all_messages`
  )
  const r = rows[0] as { queues: number; messages: number; results: number; all_messages: number }
  return { queues: r.queues, messages: r.messages, results: r.results, allMessages: r.all_messages }
}

/** Sessions of the action (its own SQL connection) or of a worker it booted (`cfg-<id>`). */
async function runSessions(database: string): Promise<Array<{ pid: number; application_name: string; state: string | null }>> {
  return pg.query(
    database,
    `SELECT pid, application_name, state FROM pg_stat_activity
      WHERE datname = $1 AND (application_name LIKE 'cfg-%' OR application_name = $2)`,
    [database, ACTION_APPLICATION_NAME]
  )
}

/** A gate's evidence from the step's outputs, '' when the step wrote none (checkStep says why). */
function evidenceOf(r: ActionResult, id: string): string {
  const gatesOut = JSON.parse(r.outputs.gates ?? '[]') as Array<{ id: string; evidence: string }>
  return gatesOut.find((g) => g.id === id)?.evidence ?? ''
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1)
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

describe('Concurrency and load', () => {
  it("8 runs at once against one database: each gets its own pong, never another run's", async () => {
    const db = await exampleDatabase(pg)
    // Runs 3, 6 and 8 on Celery 5.2, the others on 5.7: both generations poll the same tables.
    const versions: CeleryVersion[] = ['5.7', '5.7', '5.2', '5.7', '5.7', '5.2', '5.7', '5.2']
    const results = await Promise.all(versions.map((v) => gates(v, db, { timeout: '90' })))
    const n = results.length

    const stepErrors = checkSteps(
      results.map(
        (r, i) => () =>
          checkStep(
            LOAD,
            `8 at once: run ${i + 1} of ${n} (Celery ${versions[i]})`,
            r,
            {
              code: 0,
              gates: ALL_PASS,
              evidenceOf: 'rls-role',
              // Its own worker's sessions, named by its own node name.
              evidence: new RegExp(`of ${escapeRegExp(r.report?.worker?.nodeName ?? '(no node name)')} in pg_stat_activity, all ${escapeRegExp(db.appRole)}`),
              timeoutS: 90,
              marginS: 30,
              secrets: secretsOf(db)
            },
            `8 runs at once share one database and broker tables (timeout 90, ${SOLO}): this one passes every gate, exits 0, its rls-role evidence names its own worker`
          )
      )
    )

    const problems: string[] = []
    const taskIds = results.map((r) => r.report?.ping?.taskId ?? '')
    const queues = results.map((r) => r.report?.worker?.queue ?? '')
    const nodes = results.map((r) => r.report?.worker?.nodeName ?? '')
    for (const [what, values] of Object.entries({ 'task ids': taskIds, queues, 'node names': nodes })) {
      if (values.some((v) => !v)) problems.push(`a run reported no ${what}`)
      if (new Set(values).size !== n) problems.push(`${what} not distinct: ${values.join(', ')}`)
    }
    results.forEach((r, i) => {
      const ping = r.report?.ping
      if (ping?.status !== 'SUCCESS') problems.push(`run ${i + 1}: ping status ${ping?.status ?? 'missing'}`)
      if (!/pong/.test(ping?.result ?? '')) problems.push(`run ${i + 1}: ping result ${ping?.result ?? 'missing'}`)
      // The runtime evidence names this run's node; its queue is derived from the same run id.
      if (!queues[i]?.startsWith(`${r.report?.runId}.`)) problems.push(`run ${i + 1}: queue ${queues[i]} is not of run ${r.report?.runId}`)
      if (!evidenceOf(r, 'runtime').includes(nodes[i] as string)) problems.push(`run ${i + 1}: runtime evidence does not name ${nodes[i]}`)
      // From the worker's own log: it received its own ping, and no other run's.
      const own = taskIds[i] as string
      if (!r.workerLog.includes(own)) problems.push(`run ${i + 1}: its worker's log never mentions its own task ${own}`)
      const foreign = taskIds.filter((id, j) => j !== i && id && r.workerLog.includes(id))
      if (foreign.length) problems.push(`run ${i + 1}: its worker handled another run's ping ${foreign.join(', ')}`)
    })
    const rows = await traceRows(db.database)
    if (rows.queues || rows.messages || rows.results) problems.push(`trace left: ${JSON.stringify(rows)}`)
    const sessions = await runSessions(db.database)
    if (sessions.length) problems.push(`sessions left: ${sessions.map((s) => `${s.application_name} (pid ${s.pid})`).join(', ')}`)
    const durations = results.map((r) => r.durationMs)
    const roundTrips = results.map((r) => r.report?.ping?.roundTripMs ?? NaN)
    summarize(
      '8 at once: all runs',
      `8 runs at once (${versions.filter((v) => v === '5.7').length} on Celery 5.7, ${versions.filter((v) => v === '5.2').length} on 5.2) on one DATABASE_URL: all pass; distinct task ids, queues and node names; each worker took only its own ping (its log names its own task id and no other run's); no trace and no session left`,
      `${results.filter((r) => r.code === 0).length} of ${n} exit 0; ${new Set(taskIds).size} distinct task ids, ${new Set(queues).size} queues, ${new Set(nodes).size} node names; ` +
        `duration median ${seconds(median(durations))} s, max ${seconds(Math.max(...durations))} s; ping round trip median ${median(roundTrips)} ms, max ${Math.max(...roundTrips)} ms; ` +
        `rows left: ${rows.queues} queues, ${rows.messages} messages, ${rows.results} results; sessions left: ${sessions.length}`,
      problems,
      stepErrors
    )
  }, 240_000)

  it('50 runs in a row against one database: each passes, leaves no connection, and the trace stays bounded', async () => {
    const db = await exampleDatabase(pg)
    const RUNS = 50
    // Celery 5.2 stops in about a second, 5.7 needs 4-5 s (its poll loop checks for shutdown every
    // 2 s): every fifth run on 5.7 keeps both generations covered and the case under 4 minutes.
    const versionOf = (i: number): CeleryVersion => (i % 5 === 4 ? '5.7' : '5.2')
    const durations: Record<CeleryVersion, number[]> = { '5.7': [], '5.2': [] }
    const lingering: string[] = []
    let sessionsLeft = 0
    const checks: Array<() => void> = []
    const caseStarted = performance.now()
    for (let i = 0; i < RUNS; i++) {
      const version = versionOf(i)
      const r = await gates(version, db)
      durations[version].push(r.durationMs)
      // The step has ended: none of its sessions, nor any of its worker's, may still be there.
      const sessions = await runSessions(db.database)
      sessionsLeft += sessions.length
      if (sessions.length) lingering.push(`after run ${i + 1}: ${sessions.map((s) => `${s.application_name} (pid ${s.pid}, ${s.state})`).join(', ')}`)
      checks.push(() =>
        checkStep(
          LOAD,
          `50 in a row: run ${String(i + 1).padStart(2, '0')} of ${RUNS} (Celery ${version})`,
          r,
          { code: 0, gates: ALL_PASS, evidenceOf: 'runtime', evidence: /celery\.ping answered 'pong'/, timeoutS: 30, marginS: 20, secrets: secretsOf(db) },
          `run ${i + 1} of ${RUNS} in a row on one database: passes every gate and exits 0`
        )
      )
      if (r.report?.trace?.removed !== true) lingering.push(`run ${i + 1}: trace not removed: ${r.report?.trace?.detail ?? 'no trace in report'}`)
    }
    const caseMs = performance.now() - caseStarted
    const stepErrors = checkSteps(checks)

    // setup.sql grants the app role DELETE on the three tables, so the whole trace must be gone.
    const grants = await pg.query<{ t: string; ok: boolean }>(
      db.database,
      `SELECT t, has_table_privilege($1, t, 'DELETE') AS ok FROM unnest(ARRAY['kombu_message', 'kombu_queue', 'celery_taskmeta']) AS t`,
      [db.appRole]
    )
    const problems: string[] = []
    for (const g of grants) if (!g.ok) problems.push(`${db.appRole} lacks DELETE on ${g.t}: the expectation of 0 rows does not apply`)
    const rows = await traceRows(db.database)
    if (rows.queues) problems.push(`${rows.queues} cfg- queue rows left`)
    if (rows.messages) problems.push(`${rows.messages} message rows left in cfg- queues`)
    if (rows.results) problems.push(`${rows.results} result rows left`)
    problems.push(...lingering)
    const all = [...durations['5.2'], ...durations['5.7']]
    summarize(
      '50 in a row: all runs',
      `50 runs one after another on one database (40 on Celery 5.2, 10 on 5.7): all pass; after each, no session of the action or its worker in pg_stat_activity; at the end 0 cfg- queue rows, 0 messages in them, 0 result rows (the role may DELETE)`,
      `${RUNS} runs in ${seconds(caseMs)} s; duration median ${seconds(median(all))} s, max ${seconds(Math.max(...all))} s ` +
        `(5.2: median ${seconds(median(durations['5.2']))} s, max ${seconds(Math.max(...durations['5.2']))} s; 5.7: median ${seconds(median(durations['5.7']))} s, max ${seconds(Math.max(...durations['5.7']))} s); ` +
        `rows left: ${rows.queues} queues, ${rows.messages} messages, ${rows.results} results (${rows.allMessages} message rows in all queues); ` +
        `connections left after a run: ${sessionsLeft} in all (checked right after each step ended)`,
      problems,
      stepErrors
    )
  }, 330_000)

  it('without DELETE the trace stays: per run its queue row, its ping messages and their result rows', async () => {
    const db = await exampleDatabase(pg)
    await pg.query(db.database, `REVOKE DELETE ON kombu_message, kombu_queue, celery_taskmeta FROM "${db.appRole}"`)
    const RUNS = 3
    const versions: CeleryVersion[] = ['5.2', '5.7', '5.2']
    const results: ActionResult[] = []
    for (const v of versions) results.push(await gates(v, db))
    const stepErrors = checkSteps(
      results.map(
        (r, i) => () =>
          checkStep(
            LOAD,
            `no DELETE: run ${i + 1} of ${RUNS} (Celery ${versions[i]})`,
            r,
            { code: 0, gates: ALL_PASS, evidenceOf: 'runtime', evidence: /celery\.ping answered 'pong'/, timeoutS: 30, marginS: 20, secrets: secretsOf(db) },
            `the app role lacks DELETE on the broker and result tables (it needs none to work): passes every gate and exits 0`
          )
      )
    )

    const problems: string[] = []
    const left = new RegExp(
      `^left in the database: messages \\(${escapeRegExp(db.appRole)} may not delete\\), queue row \\(${escapeRegExp(db.appRole)} may not delete\\), result rows \\(${escapeRegExp(db.appRole)} may not delete\\)$`
    )
    results.forEach((r, i) => {
      const trace = r.report?.trace
      if (trace?.removed !== false) problems.push(`run ${i + 1}: trace.removed is ${String(trace?.removed)}`)
      if (!left.test(trace?.detail ?? '')) problems.push(`run ${i + 1}: trace detail ${JSON.stringify(trace?.detail)} does not match ${left}`)
      if (!/not cleaned up/.test(r.summary)) problems.push(`run ${i + 1}: the summary does not say the trace was not cleaned up`)
    })
    const rows = await traceRows(db.database)
    // Per run: its queue row; its ping message, taken (visible = false) but never deleted — kombu's
    // SQLAlchemy transport acks without deleting; and its result row.
    const perQueue = await pg.query<{ name: string; messages: number; visible: number }>(
      db.database,
      `SELECT q.name, count(m.id)::int AS messages, count(m.id) FILTER (WHERE m.visible)::int AS visible
         FROM kombu_queue q LEFT JOIN kombu_message m ON m.queue_id = q.id WHERE q.name LIKE 'cfg-%' GROUP BY q.name ORDER BY q.name`
    )
    const ownQueues = new Set(results.map((r) => r.report?.worker?.queue))
    const resultRows = await pg.query<{ task_id: string; status: string }>(db.database, `SELECT task_id, status FROM celery_taskmeta ORDER BY task_id`)
    // The run's ping, and the pings it sent through the app's own queues (the queues gate).
    const ownTasks = new Set(results.flatMap((r) => [r.report?.ping?.taskId, ...(r.report?.extraPings ?? []).map((x) => x.taskId)]))
    const pingsPerRun = results.map((r) => 1 + (r.report?.extraPings?.length ?? 0))
    const pings = pingsPerRun.reduce((a, b) => a + b, 0)
    if (rows.queues !== RUNS) problems.push(`${rows.queues} cfg- queue rows (want ${RUNS})`)
    if (perQueue.some((q) => !ownQueues.has(q.name))) problems.push(`queue rows of other runs: ${perQueue.map((q) => q.name).join(', ')}`)
    if (perQueue.some((q) => q.messages < 1)) problems.push(`a run's queue holds no message: ${JSON.stringify(perQueue)}`)
    if (rows.messages > RUNS) problems.push(`${rows.messages} message rows (want at most ${RUNS})`)
    if (perQueue.some((q) => q.visible)) problems.push(`a message is still visible (would be delivered again): ${JSON.stringify(perQueue)}`)
    if (rows.results !== pings) problems.push(`${rows.results} result rows (want ${pings}: ${pingsPerRun.join(' + ')})`)
    if (resultRows.some((r) => !ownTasks.has(r.task_id) || r.status !== 'SUCCESS')) problems.push(`result rows: ${JSON.stringify(resultRows)}`)
    summarize(
      'no DELETE: 3 runs leave a bounded trace',
      `app role without DELETE on kombu_message, kombu_queue, celery_taskmeta, 3 runs: each passes; trace.removed false naming messages, queue row and result rows and that the role may not delete; exactly 3 cfg- queue rows with 1 message each (none visible), and per run one result row for its ping and one for each ping through the app's queues — the documented bound`,
      `${results.filter((r) => r.code === 0).length} of ${RUNS} exit 0; trace: ${JSON.stringify(results[0]?.report?.trace?.detail ?? '')}; ` +
        `rows left: ${rows.queues} queues, ${rows.messages} messages (${perQueue.map((q) => `${q.messages}/${q.visible} visible`).join(', ')}), ${rows.results} results`,
      problems,
      stepErrors
    )
  }, 180_000)
})

/** The value of an `::add-mask::` line, unescaped as the runner reads it (%25, %0D, %0A). */
function maskValue(line: string): string | undefined {
  if (!line.startsWith('::add-mask::')) return undefined
  return line
    .slice('::add-mask::'.length)
    .replace(/\r$/, '')
    .replace(/%(25|0D|0A)/g, (_m, code: string) => ({ '25': '%', '0D': '\r', '0A': '\n' })[code] as string)
}

describe('Masking', () => {
  const hex = (): string => randomBytes(4).toString('hex')
  // One password per character that must be percent-encoded in a URL, plus a long plain one.
  const cases: Array<[string, string, CeleryVersion]> = [
    ['@', `mask-${hex()}@at-${hex()}`, '5.7'],
    [':', `mask-${hex()}:colon-${hex()}`, '5.2'],
    ['/', `mask-${hex()}/slash-${hex()}`, '5.7'],
    ['%', `mask-${hex()}%percent-${hex()}`, '5.2'],
    ['a space', `mask-${hex()} space-${hex()}`, '5.7'],
    ['+', `mask-${hex()}+plus-${hex()}`, '5.2'],
    ['#', `mask-${hex()}#hash-${hex()}`, '5.7'],
    ['?', `mask-${hex()}?question-${hex()}`, '5.2'],
    ['nothing special (long)', `maskplain${hex()}${hex()}${hex()}${hex()}${hex()}`, '5.7']
  ]

  it.each(cases)(
    'a password containing %s, in DATABASE_URL and database-url, is masked first and never shown',
    async (what, password, version) => {
      const db = await exampleDatabase(pg, { password })
      const name = `masking: password with ${what}`
      const result = await gates(version, db, { 'database-url': db.url })
      const stepErrors = checkSteps([
        () =>
          checkStep(
            MASKING,
            `${name} (Celery ${version})`,
            result,
            {
              code: 0,
              gates: ALL_PASS,
              evidenceOf: 'broker-config',
              evidence: /sqla\+postgresql:\/\/\*\*\*@127\.0\.0\.1/,
              timeoutS: 30,
              secrets: secretsOf(db)
            },
            `password with ${what} given URL-encoded in DATABASE_URL and in database-url: every gate passes; neither the password, its percent-encoded form nor the DSN appears in any output`
          )
      ])

      // The runner only hides what was registered before it is printed: the password (raw and
      // percent-encoded) and the DSN must be masked before the first line that is not a command.
      const lines = result.stdout.split('\n')
      const firstPlain = lines.findIndex((l) => l.trim() !== '' && !l.startsWith('::'))
      const firstMask = (secret: string): number => lines.findIndex((l) => maskValue(l) === secret)
      const problems: string[] = []
      const positions: string[] = []
      for (const [form, secret] of Object.entries({ raw: db.password, encoded: encodeURIComponent(db.password), DSN: db.url })) {
        const at = firstMask(secret)
        positions.push(`${form} at line ${at + 1}`)
        if (at < 0) problems.push(`the ${form} form is never masked`)
        else if (firstPlain >= 0 && at > firstPlain)
          problems.push(`the ${form} form is masked at line ${at + 1}, after the first plain line ${firstPlain + 1}: ${JSON.stringify(lines[firstPlain])}`)
      }
      summarize(
        `${name}: masked before output`,
        `::add-mask:: for the raw password, its percent-encoded form and the DSN come before the first stdout line that is not a workflow command`,
        `first plain line ${firstPlain + 1}; masks: ${positions.join(', ')}`,
        problems,
        stepErrors
      )
    },
    120_000
  )
})
