// Benchmark, standalone: the SQL gates (`db-access`, `rls-role`) on the example database as it is
// (1 tenant table, no other session) and with 1,000 tenant tables and 200 open sessions. Target
// (issue "SQL gates at scale"): each gate under 300 ms, with a number of queries that does not grow
// with the number of tables. Starts its own PostgreSQL, prints a markdown table, stops it.
//
//   npx tsx bench/sql-scale.ts                      # 3 repeats, 1 → 1000 tables, 0 → 200 sessions
//   npx tsx bench/sql-scale.ts --repeats 5 --tables 2000 --sessions 250
import { parseArgs } from 'node:util'
import { pythonFor } from '../test/support/action.js'
import { benchSqlGatesAtScale, startSqlScalePostgres, type SqlScaleRow } from './lib/sql-scale.js'

const TARGET_MS = 300

const { values: args } = parseArgs({
  options: {
    repeats: { type: 'string', default: '3' },
    tables: { type: 'string', default: '1000' },
    sessions: { type: 'string', default: '200' },
    celery: { type: 'string', default: '5.7' }
  }
})

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}
const ms = (x: number): string => `${Math.round(x)}`

function render(rows: SqlScaleRow[]): string {
  const out: string[] = []
  out.push(
    '| tenant tables | open sessions | db-access ms (median; runs) | rls-role ms (median; runs) | queries db-access / rls-role | peak RSS MiB (median) |'
  )
  out.push('|---:|---:|---|---|---|---:|')
  for (const r of rows)
    out.push(
      `| ${r.tables} | ${r.sessions} | ${ms(median(r.dbAccessMs))} (${r.dbAccessMs.join(', ')}) | ${ms(median(r.rlsRoleMs))} (${r.rlsRoleMs.join(', ')}) | ` +
        `${r.queries?.dbAccess ?? 'n/a'} / ${r.queries?.rlsRole ?? 'n/a'} | ${median(r.peakRssMb).toFixed(1)} |`
    )
  const [first, last] = [rows[0], rows[rows.length - 1]]
  if (first && last && first !== last) {
    const ratio = (a: number[], b: number[]): string => (median(b) > 0 ? `${(median(a) / median(b)).toFixed(2)}×` : 'n/a')
    out.push(
      `| ratio ${last.tables} / ${first.tables} tables | | ${ratio(last.dbAccessMs, first.dbAccessMs)} | ${ratio(last.rlsRoleMs, first.rlsRoleMs)} | | ${(median(last.peakRssMb) / median(first.peakRssMb)).toFixed(2)}× |`
    )
  }
  out.push('')
  for (const r of rows) {
    for (const [gate, times, key] of [
      ['db-access', r.dbAccessMs, 'dbAccess'],
      ['rls-role', r.rlsRoleMs, 'rlsRole']
    ] as const) {
      const m = median(times)
      const statuses = r.statuses?.[key] ?? []
      const notPassed = statuses.filter((s) => s !== 'pass')
      const verdict =
        m <= TARGET_MS
          ? `within ${TARGET_MS} ms (${ms(TARGET_MS - m)} ms to spare)`
          : `**missed by ${ms(m - TARGET_MS)} ms** (${(m / TARGET_MS).toFixed(2)}× the target)`
      out.push(`- ${gate} at ${r.tables} tables / ${r.sessions} sessions: ${verdict}${notPassed.length ? `; statuses ${statuses.join(', ')}` : ''}`)
      const statements = r.statements?.[key]
      if (statements?.length) {
        const total = statements.reduce((a, s) => a + s.serverMs, 0)
        out.push(`  - ${statements.length} statements, ${total.toFixed(1)} ms in the server (counting run):`)
        for (const s of statements) out.push(`    - ${s.serverMs.toFixed(2)} ms \`${s.sql.replace(/`/g, "'")}\``)
      }
    }
  }
  if (rows.length > 1 && rows.every((r) => r.queries?.dbAccess !== undefined)) {
    const same = (k: 'dbAccess' | 'rlsRole'): boolean => new Set(rows.map((r) => r.queries?.[k])).size === 1
    out.push('')
    out.push(
      `Query counts ${same('dbAccess') && same('rlsRole') ? 'are the same at every scale: they do not depend on the number of tables' : 'differ between scales: they depend on the number of tables'} ` +
        "(counted in the server log: log_min_duration_statement = 0 on the bench database, statements of the action's check session)."
    )
  }
  return out.join('\n')
}

async function main(): Promise<void> {
  const repeats = Number(args.repeats)
  const tables = Number(args.tables)
  const sessions = Number(args.sessions)
  const python = pythonFor(args.celery as '5.7' | '5.2')
  const server = await startSqlScalePostgres({ maxConnections: sessions + 100 })
  try {
    const rows = await benchSqlGatesAtScale({
      pg: server,
      python,
      repeats,
      scales: [
        { tables: 1, sessions: 0 },
        { tables, sessions }
      ],
      log: (line) => process.stderr.write(`${line}\n`)
    })
    process.stdout.write(`${render(rows)}\n`)
  } finally {
    await server.destroy()
  }
}

await main()
