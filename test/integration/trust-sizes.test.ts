// Input from outside must not blow up the step: with 10,000 tenant tables every output, every
// annotation and the job summary stay within GitHub's documented limits and say what they left
// out; a tenant-tables entry that cannot be a table name is one finding, not a failed run; the SQL
// the gates suggest quotes every identifier. Real PostgreSQL, real worker, the bundled action;
// every case is checked for the common invariants and recorded for RELIABILITY.md (Trust).
import { statSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ANNOTATION_MESSAGE_MAX_CHARS, githubSize, OUTPUTS_BUDGET_BYTES } from '../../src/report/limits.js'
import { gate, stepFiles, type ActionResult } from '../support/action.js'
import { exampleDatabase, runOnExample, type ExampleDatabase, secretsOf } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'

const GROUP = 'Trust'
/** GitHub: a job's outputs together, 1 MB (UTF-16 approximation); a step summary, 1 MiB. */
const GITHUB_OUTPUTS_LIMIT = 1_000_000
const GITHUB_SUMMARY_LIMIT = 1024 * 1024
const TABLES = 10_000
const GATES = 'import broker-config runtime db-access rls-role tenant-isolation'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

const secrets = secretsOf

/** The message of each `::error …::message` line, unescaped as the runner reads it. */
function annotations(result: ActionResult): Array<{ line: string; message: string }> {
  return result.stdout
    .split('\n')
    .filter((l) => l.startsWith('::error'))
    .map((line) => ({
      line,
      message: line
        .slice(line.indexOf('::', 2) + 2)
        .replace(/%0D/g, '\r')
        .replace(/%0A/g, '\n')
        .replace(/%25/g, '%')
    }))
}

/**
 * `count - 1` more tenant tables next to the example's `invoices`, each with RLS enabled but not
 * forced (so rls-role has one problem per table) and SELECT granted to the app role (so
 * tenant-isolation checks them all). Long names make every line of evidence long. 1,000 tables per
 * schema, one statement list (one transaction) per schema: creating a table costs time in
 * proportion to the tables already in its schema (10,000 in `public` took minutes).
 */
async function addTenantTables(db: ExampleDatabase, count: number): Promise<void> {
  const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`
  for (let from = 1, n = 0; from < count; from += 1000, n++) {
    const schema = `tenant_s${String(n).padStart(2, '0')}`
    const statements = [
      `CREATE SCHEMA ${schema} AUTHORIZATION ${ident(db.ownerRole)}`,
      `GRANT USAGE ON SCHEMA ${schema} TO ${ident(db.appRole)}`,
      `SET ROLE ${ident(db.ownerRole)}`
    ]
    for (let i = from; i < Math.min(count, from + 1000); i++) {
      const table = `${schema}.tenant_table_with_a_rather_long_name_for_size_${String(i).padStart(5, '0')}`
      statements.push(`CREATE TABLE ${table} (tenant_id uuid NOT NULL)`, `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`)
    }
    statements.push(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${ident(db.appRole)}`, 'RESET ROLE')
    await pg.query(db.database, statements.join(';\n'))
  }
}

describe('sizes: 10,000 tenant tables', () => {
  it('keeps every output, annotation and the summary within GitHub’s limits, saying what it left out', async () => {
    const db = await exampleDatabase(pg)
    await addTenantTables(db, TABLES)
    const files = stepFiles()
    const result = await runOnExample('5.7', db, { gates: GATES }, { files, killAfterMs: 300_000 })

    // Outputs: each value, all together in GitHub's measure, and the file the runner reads.
    const sizes = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, githubSize(v)]))
    const total = Object.entries(result.outputs).reduce((n, [k, v]) => n + githubSize(k) + githubSize(v), 0)
    expect(Object.keys(result.outputs).sort()).toEqual(['failed-gates', 'gates', 'report', 'verdict'])
    expect(total, JSON.stringify(sizes)).toBeLessThanOrEqual(OUTPUTS_BUDGET_BYTES)
    expect(statSync(files.output).size).toBeLessThan(GITHUB_OUTPUTS_LIMIT)

    // Evidence: the first tables, and how many more.
    const rls = gate(result, 'rls-role')
    expect(rls.evidence).toMatch(/\(ALTER TABLE "tenant_s00"\."tenant_table_with_a_rather_long_name_for_size_00001" FORCE ROW LEVEL SECURITY\)/)
    expect(rls.evidence).toMatch(/… and 9,989 more problems \(see the gate's details\)/)
    const isolation = gate(result, 'tenant-isolation')
    expect(isolation.evidence).toMatch(/^10,000 tenant tables as .*… and 9,990 more tables \(see the gate's details\)/m)

    // Annotations: each message under the runner's cut (4,096 characters), saying what it left out.
    const errors = annotations(result)
    expect(errors.length).toBeGreaterThan(0)
    for (const e of errors) {
      expect(e.message.length).toBeLessThanOrEqual(ANNOTATION_MESSAGE_MAX_CHARS)
      expect(e.line.length).toBeLessThan(4 * ANNOTATION_MESSAGE_MAX_CHARS)
    }
    expect(errors.find((e) => e.line.includes('`rls-role`'))?.message).toMatch(/… and 9,989 more problems/)

    // The summary fits GitHub's 1 MiB; the report file has every table, bounded.
    expect(Buffer.byteLength(result.summary)).toBeLessThanOrEqual(GITHUB_SUMMARY_LIMIT)
    const details = result.report?.gates.find((g) => g.id === 'rls-role')?.details ?? ''
    expect(details).toContain('tenant_table_with_a_rather_long_name_for_size_09999')
    expect(details).toMatch(/^Tenant tables: 10,000 with a problem|Tenant tables: 9,999 with a problem/m)

    const longestLine = Math.max(...result.stdout.split('\n').map((l) => l.length))
    checkStep(
      GROUP,
      `${TABLES.toLocaleString('en-US')} tenant tables, RLS not forced on 9,999: outputs, annotations and summary stay within GitHub's limits`,
      result,
      { code: 1, gates: { 'rls-role': 'fail', 'tenant-isolation': 'pass' }, evidence: /FORCE ROW LEVEL SECURITY/, timeoutS: 60, secrets: secrets(db) },
      `outputs ${Math.round(total / 1000)} kB of GitHub's 1 MB (gates ${Math.round((sizes.gates ?? 0) / 1000)} kB); ${errors.length} annotations, longest message ${Math.max(...errors.map((e) => e.message.length))} of 4,096 characters; longest log line ${longestLine} characters; summary ${Math.round(Buffer.byteLength(result.summary) / 1024)} KiB of 1 MiB; evidence names 10 tables and says how many more`
    )
  }, 400_000)
})

describe('tenant-tables entries that cannot be table names', () => {
  let db: ExampleDatabase
  beforeAll(async () => {
    db = await exampleDatabase(pg)
  })

  it.each([
    ['a.b.c.d', /entry `a\.b\.c\.d` is not a table name: it has 4 dotted parts \(expected table or schema\.table, quoted if needed\); skipped/],
    ['""', /entry `""` is not a table name: it has an empty quoted name/],
    ['public."Weird', /entry `public\."Weird` is not a table name: it has an unclosed double quote/]
  ])('%s next to invoices: one finding of rls-role, the other entry still checked', async (entry, finding) => {
    const result = await runOnExample('5.2', db, { gates: GATES, 'tenant-tables': `invoices, ${entry}` })
    expect(result.report?.interrupted).toBeUndefined()
    const rls = gate(result, 'rls-role')
    expect(rls.evidence).toMatch(/RLS enabled, forced and active for .*: public\.invoices/)
    const isolation = gate(result, 'tenant-isolation')
    expect(isolation.evidence).toMatch(/^1 tenant table as .*: public\.invoices/m)
    expect(isolation.evidence).toMatch(finding)
    checkStep(
      GROUP,
      `tenant-tables \`invoices, ${entry}\``,
      result,
      { code: 1, gates: { 'rls-role': 'fail', 'tenant-isolation': 'pass' }, evidence: finding, timeoutS: 30, secrets: secrets(db) },
      'one finding naming the entry (rls-role fails, which owns the input); invoices still checked by both gates; no input error'
    )
  })
})

describe('suggested SQL quotes every identifier', () => {
  it('a role `App-User` with BYPASSRLS and a tenant table without FORCE', async () => {
    const db = await exampleDatabase(pg, { appRole: 'App-User', variants: ['rls-not-forced', 'bypassrls'] })
    try {
      const result = await runOnExample('5.2', db, { gates: GATES })
      const rls = gate(result, 'rls-role')
      expect(rls.evidence).toContain('ALTER ROLE "App-User" NOBYPASSRLS')
      expect(rls.evidence).toContain('ALTER TABLE "public"."invoices" FORCE ROW LEVEL SECURITY')
      // What the user is told to run works as written: run it, and the gate passes.
      for (const sql of ['ALTER ROLE "App-User" NOBYPASSRLS', 'ALTER TABLE "public"."invoices" FORCE ROW LEVEL SECURITY']) await pg.query(db.database, sql)
      const fixed = await runOnExample('5.2', db, { gates: GATES })
      expect(gate(fixed, 'rls-role').status).toBe('pass')
      checkStep(
        GROUP,
        'expected-role `App-User` (BYPASSRLS) and `invoices` without FORCE: the suggested SQL is quoted',
        result,
        { code: 1, gates: { 'rls-role': 'fail' }, evidence: /ALTER ROLE "App-User" NOBYPASSRLS/, timeoutS: 30, secrets: secrets(db) },
        'ALTER ROLE "App-User" NOBYPASSRLS and ALTER TABLE "public"."invoices" FORCE ROW LEVEL SECURITY; run as written, the next run passes rls-role'
      )
    } finally {
      // Roles are cluster-wide: leave no BYPASSRLS role behind for the other cases.
      await pg.query('postgres', 'ALTER ROLE "App-User" NOBYPASSRLS').catch(() => {})
    }
  })
})
