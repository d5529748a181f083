// Benchmark module: the SQL gates at scale (`db-access` and `rls-role` on a database with many
// tenant tables and many open sessions). For each scale: a fresh example database (setup.sql, as the
// tests create it), `tables - 1` more tenant tables next to the example's `invoices` (each with a
// `tenant_id uuid` column, RLS enabled and forced, the example's policy, SELECT/INSERT granted to the
// app role), `sessions` idle sessions of the app role held open, then the bundled action
// (`node dist/index.js`, run as the runner does) `repeats` times with only the gates these two need.
// Each run gives both gates' `durationMs` from the JSON report and the peak RSS (VmHWM) of the node
// process.
//
// Query counts are measured, not read off the code: one more run per scale (not timed) with
// `log_min_duration_statement = 0` set on that database only, the server's log read back from its
// stderr, and the statements of the action's check session (application_name
// celery-foundation-gates, the session that runs `SELECT current_database()`) split into the two
// gates. That needs a server whose log this module can read: start it with startSqlScalePostgres().
// On a server started otherwise the counts are left out (the timings are unaffected).
import type { ChildProcess } from 'node:child_process'
import pg from 'pg'
import { LocalPostgres } from '../../scripts/lib/postgres.mjs'
import { EXAMPLE_APP, runAction, type ActionResult } from '../../test/support/action.js'
import { exampleDatabase, type ExampleDatabase } from '../../test/support/example.js'
import { sleep, trackPeakRss } from '../../test/support/run-watch.js'

export interface SqlScaleRow {
  /** Tenant tables in the database: the example's `invoices` plus `tables - 1` created for the bench. */
  tables: number
  /** Idle sessions of the app role held open during the runs. */
  sessions: number
  /** Each run's `durationMs` of the gate, from the report. */
  dbAccessMs: number[]
  rlsRoleMs: number[]
  /** Statements the gate sent, counted in the server's log (undefined when the log was not readable). */
  queries?: { dbAccess?: number; rlsRole?: number }
  /** Peak resident set (VmHWM) of the action's node process per run, MiB. */
  peakRssMb: number[]
  /** Each run's gate statuses: a failing gate's time is not the time of the check. */
  statuses?: { dbAccess: string[]; rlsRole: string[] }
  /** The counted statements with their server-side time (parse + bind + execute), from the counting run. */
  statements?: { dbAccess: LoggedStatement[]; rlsRole: LoggedStatement[] }
}

export interface LoggedStatement {
  /** The statement's first line, shortened. */
  sql: string
  /** Server time: parse + bind + execute as PostgreSQL logged them. */
  serverMs: number
}

export interface SqlScaleOptions {
  pg: LocalPostgres
  python: string
  repeats: number
  scales: Array<{ tables: number; sessions: number }>
  log?: (line: string) => void
}

/** Where the server log of a PostgreSQL started by startSqlScalePostgres() accumulates. */
const serverLogs = new WeakMap<LocalPostgres, { text: string }>()

const LOG_PREFIX = '%m|%p|%a|%d|%u|'
const ACTION_APP = 'celery-foundation-gates'
/** Connections besides the idle ones: the worker (~4 with the solo pool), the action (~3), the bench, superuser reserve. */
const CONNECTION_HEADROOM = 40

/**
 * A PostgreSQL for this benchmark: room for `maxConnections` sessions (the embedded server's
 * default is 100) and a log this module reads to count statements.
 */
export async function startSqlScalePostgres(options: { maxConnections?: number } = {}): Promise<LocalPostgres> {
  const sink = { text: '' }
  const server = await LocalPostgres.start({
    postgresFlags: ['-c', `max_connections=${options.maxConnections ?? 300}`, '-c', `log_line_prefix=${LOG_PREFIX}`],
    onLog: (m) => {
      sink.text += m
    }
  })
  serverLogs.set(server, sink)
  return server
}

export async function benchSqlGatesAtScale(opts: SqlScaleOptions): Promise<SqlScaleRow[]> {
  const log = opts.log ?? (() => {})
  const maxSessions = Math.max(0, ...opts.scales.map((s) => s.sessions))
  const [{ max_connections: maxConnections }] = (await opts.pg.query<{ max_connections: string }>('postgres', 'SHOW max_connections')) as [
    { max_connections: string }
  ]
  if (Number(maxConnections) < maxSessions + CONNECTION_HEADROOM)
    throw new Error(
      `max_connections is ${maxConnections}, too few for ${maxSessions} idle sessions plus the worker and the action: start PostgreSQL with ` +
        `startSqlScalePostgres({ maxConnections: ${maxSessions + 100} }) or LocalPostgres.start({ postgresFlags: ['-c', 'max_connections=${maxSessions + 100}'] })`
    )
  const serverLog = serverLogs.get(opts.pg)
  if (!serverLog) log('query counts left out: this PostgreSQL was not started by startSqlScalePostgres(), so its log cannot be read')

  const rows: SqlScaleRow[] = []
  for (const scale of opts.scales) {
    const label = `${scale.tables} tenant tables, ${scale.sessions} sessions`
    const t0 = performance.now()
    const db = await exampleDatabase(opts.pg)
    await addTenantTables(opts.pg, db, scale.tables - 1)
    // A database that has lived with its tables has statistics for its catalogs (autovacuum);
    // a fresh one would be planned on stale ones, and autovacuum might start in the middle of a run.
    await opts.pg.query(db.database, 'VACUUM ANALYZE')
    const [{ n }] = (await opts.pg.query<{ n: number }>(db.database, TENANT_TABLE_COUNT)) as [{ n: number }]
    if (n !== scale.tables) throw new Error(`${db.database} has ${n} tenant tables, expected ${scale.tables}`)
    log(`${label}: database ${db.database} ready in ${Math.round(performance.now() - t0)} ms`)

    const idle = await openSessions(opts.pg, db, scale.sessions)
    const row: SqlScaleRow = {
      tables: scale.tables,
      sessions: scale.sessions,
      dbAccessMs: [],
      rlsRoleMs: [],
      peakRssMb: [],
      statuses: { dbAccess: [], rlsRole: [] }
    }
    try {
      const [{ count }] = (await opts.pg.query<{ count: number }>(
        db.database,
        "SELECT count(*)::int AS count FROM pg_stat_activity WHERE application_name = 'sql-scale-idle'"
      )) as [{ count: number }]
      if (count !== scale.sessions) throw new Error(`${count} idle sessions in pg_stat_activity, expected ${scale.sessions}`)
      for (let i = 0; i < opts.repeats; i++) {
        const run = await runOnce(opts.python, db)
        const dbAccess = gateOf(run.result, 'db-access')
        const rlsRole = gateOf(run.result, 'rls-role')
        row.dbAccessMs.push(dbAccess.durationMs)
        row.rlsRoleMs.push(rlsRole.durationMs)
        row.peakRssMb.push(run.peakRssMb)
        row.statuses?.dbAccess.push(dbAccess.status)
        row.statuses?.rlsRole.push(rlsRole.status)
        const bad = [dbAccess, rlsRole].filter((g) => g.status !== 'pass')
        log(
          `${label}: run ${i + 1}/${opts.repeats}: db-access ${dbAccess.durationMs} ms (${dbAccess.status}), rls-role ${rlsRole.durationMs} ms (${rlsRole.status}), peak RSS ${run.peakRssMb.toFixed(1)} MiB` +
            (bad.length ? ` — ${bad.map((g) => `${g.id}: ${g.evidence.split('\n')[0]}`).join('; ')}` : '')
        )
      }
      if (serverLog) {
        const counted = await countStatements(opts.pg, db, opts.python, serverLog)
        row.queries = { dbAccess: counted.dbAccess.length, rlsRole: counted.rlsRole.length }
        row.statements = counted
        log(`${label}: counting run: db-access ${counted.dbAccess.length} statements, rls-role ${counted.rlsRole.length} statements`)
      }
    } finally {
      await Promise.all(idle.map((c) => c.end().catch(() => {})))
      await opts.pg.query('postgres', `DROP DATABASE IF EXISTS "${db.database}" WITH (FORCE)`).catch(() => {})
    }
    rows.push(row)
  }
  return rows
}

const TENANT_TABLE_COUNT = `
  SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public'
     AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND a.attnum > 0 AND NOT a.attisdropped)`

const BATCH = 200

/**
 * `count` more tenant tables, created as the migration owner creates `invoices` in setup.sql, one
 * DO block per 200 tables (one transaction each, so the lock table never holds them all).
 */
async function addTenantTables(server: LocalPostgres, db: ExampleDatabase, count: number): Promise<void> {
  const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`
  for (let from = 1; from <= count; from += BATCH) {
    const to = Math.min(count, from + BATCH - 1)
    await server.query(
      db.database,
      `SET ROLE "${db.ownerRole.replace(/"/g, '""')}";
       DO $bench$
       DECLARE
         t text;
         app text := ${lit(db.appRole)};
       BEGIN
         FOR i IN ${from}..${to} LOOP
           t := 'tenant_t' || lpad(i::text, 5, '0');
           EXECUTE format('CREATE TABLE %I (id bigserial PRIMARY KEY, tenant_id uuid NOT NULL, amount numeric, created_at timestamptz DEFAULT now())', t);
           EXECUTE format('CREATE INDEX %I ON %I (tenant_id)', t || '_tenant_id_idx', t);
           EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
           EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
           EXECUTE format('CREATE POLICY tenant_isolation ON %I'
             ' USING (tenant_id = NULLIF(current_setting(''app.current_tenant_id'', true), '''')::uuid)'
             ' WITH CHECK (tenant_id = NULLIF(current_setting(''app.current_tenant_id'', true), '''')::uuid)', t);
           EXECUTE format('GRANT SELECT, INSERT ON %I TO %I', t, app);
           EXECUTE format('GRANT USAGE ON SEQUENCE %I TO %I', t || '_id_seq', app);
         END LOOP;
       END
       $bench$;
       RESET ROLE;`
    )
  }
}

/** `count` sessions of the app role, logged in and idle, opened 20 at a time. */
async function openSessions(server: LocalPostgres, db: ExampleDatabase, count: number): Promise<pg.Client[]> {
  const clients: pg.Client[] = []
  try {
    for (let i = 0; i < count; i += 20) {
      const batch = Array.from({ length: Math.min(20, count - i) }, () => {
        const c = new pg.Client({
          host: '127.0.0.1',
          port: server.port,
          user: db.appRole,
          password: db.password,
          database: db.database,
          application_name: 'sql-scale-idle'
        })
        c.on('error', () => {})
        clients.push(c)
        return c.connect()
      })
      await Promise.all(batch)
    }
  } catch (err) {
    await Promise.all(clients.map((c) => c.end().catch(() => {})))
    throw err
  }
  return clients
}

const INPUTS = {
  gates: 'import broker-config runtime db-access rls-role',
  app: 'app.celery_app',
  'working-directory': EXAMPLE_APP,
  'worker-args': '--pool=solo',
  timeout: '30'
}

async function runOnce(python: string, db: ExampleDatabase): Promise<{ result: ActionResult; peakRssMb: number }> {
  let tracker: { stop: () => number } | undefined
  const result = await runAction(
    { ...INPUTS, python, 'expected-role': db.appRole },
    {
      env: { DATABASE_URL: db.url },
      onSpawn: (child: ChildProcess) => {
        if (child.pid) tracker = trackPeakRss(child.pid, 20)
      }
    }
  )
  const peak = tracker?.stop() ?? 0
  if (!result.report) throw new Error(`the action wrote no report (exit ${result.code}):\n${result.stderr.slice(-2000)}`)
  return { result, peakRssMb: peak / (1024 * 1024) }
}

function gateOf(result: ActionResult, id: string): { id: string; status: string; evidence: string; durationMs: number } {
  const g = result.report?.gates.find((x) => x.id === id)
  if (!g) throw new Error(`gate ${id} missing from the report; gates: ${result.report?.gates.map((x) => `${x.id}=${x.status}`).join(', ')}`)
  return g
}

// ---- Counting statements in the server's log ----------------------------------------------------

interface LogEntry {
  pid: string
  app: string
  database: string
  message: string
}

const ENTRY = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+\|(\d+)\|([^|]*)\|([^|]*)\|([^|]*)\|[A-Z]+: {2}([\s\S]*)$/

function parseLog(text: string): LogEntry[] {
  const entries: LogEntry[] = []
  let current: LogEntry | undefined
  for (const line of text.split('\n')) {
    const m = ENTRY.exec(line)
    if (m) {
      current = { pid: m[1] as string, app: m[2] as string, database: m[3] as string, message: m[5] as string }
      entries.push(current)
    } else if (current && line.startsWith('\t')) current.message += `\n${line.slice(1)}`
  }
  return entries
}

const DURATION = /^duration: ([\d.]+) ms {2}(parse|bind|execute|statement)( [^:]*)?: ([\s\S]*)$/

/** rls-role's statements (src/db/catalog.ts): the first of them ends db-access's share of the session. */
const RLS_ROLE_SQL =
  /FROM pg_stat_activity|FROM pg_roles r WHERE|FROM pg_class c JOIN pg_namespace n|unnest\(\$1::text\[\]\) WITH ORDINALITY AS t\(name, i\)|row_security_active\(/

/**
 * One more run of the action with `log_min_duration_statement = 0` on this database only, and its
 * statements read back from the server's log: those of the action's check session, in order, up to
 * rls-role's first statement for db-access (its connection is opened there: `SELECT current_user`
 * counts), the rest for rls-role (the last gate of the run).
 */
async function countStatements(
  server: LocalPostgres,
  db: ExampleDatabase,
  python: string,
  serverLog: { text: string }
): Promise<{ dbAccess: LoggedStatement[]; rlsRole: LoggedStatement[] }> {
  const quoted = `"${db.database.replace(/"/g, '""')}"`
  await server.query('postgres', `ALTER DATABASE ${quoted} SET log_min_duration_statement = 0`)
  const offset = serverLog.text.length
  try {
    const { result } = await runOnce(python, db)
    for (const id of ['db-access', 'rls-role'])
      if (gateOf(result, id).status !== 'pass') throw new Error(`counting run: ${id} did not pass: ${gateOf(result, id).evidence}`)
  } finally {
    await server.query('postgres', `ALTER DATABASE ${quoted} RESET log_min_duration_statement`)
  }
  await sleep(300) // the server's stderr reaches us asynchronously
  const entries = parseLog(serverLog.text.slice(offset)).filter((e) => e.database === db.database && e.app === ACTION_APP)
  const checkPid = entries.find((e) => /SELECT current_database\(\) AS db/.test(e.message))?.pid
  if (!checkPid) throw new Error(`counting run: no statement of the action's check session in the server log (${entries.length} entries of ${ACTION_APP})`)
  // parse and bind precede their execute; a simple-protocol statement stands alone.
  const statements: Array<LoggedStatement & { full: string }> = []
  let pending = 0
  for (const e of entries) {
    if (e.pid !== checkPid) continue
    const m = DURATION.exec(e.message)
    if (!m) continue
    const ms = Number(m[1])
    if (m[2] === 'parse' || m[2] === 'bind') {
      pending += ms
      continue
    }
    const sql = (m[4] as string).replace(/\s+/g, ' ').trim()
    statements.push({ full: sql, sql: sql.length > 90 ? `${sql.slice(0, 89)}…` : sql, serverMs: Math.round((pending + ms) * 1000) / 1000 })
    pending = 0
  }
  const split = statements.findIndex((s) => RLS_ROLE_SQL.test(s.full))
  if (split < 0) throw new Error(`counting run: no rls-role statement found among ${statements.length} of the check session`)
  const plain = statements.map(({ sql, serverMs }) => ({ sql, serverMs }))
  return { dbAccess: plain.slice(0, split), rlsRole: plain.slice(split) }
}
