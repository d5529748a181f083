// rls-role on the worker's database identities: a worker role that owns a tenant table, or is a
// member of the role that owns it, may switch the table's row-level security off whenever it likes
// — each must fail the gate naming the role, the table, the owner and a fix PostgreSQL accepts.
// The bootstrap superuser gets a fix other than ALTER ROLE … NOSUPERUSER (which PostgreSQL 16+
// refuses for it), and a role listed in allowed-roles is accepted. Real PostgreSQL, real workers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gate } from '../support/action.js'
import { exampleDatabase, runOnExample, secretsOf, escapeRegExp } from '../support/example.js'
import { SUPERUSER, TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'

const GROUP = 'Faults'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

const secrets = secretsOf
const OWNER_FIX = escapeRegExp('ALTER TABLE "public"."invoices" OWNER TO "<migration role>"')

describe('rls-role: who may act as the owner of a tenant table', () => {
  it('fails when the worker role owns the tenant table (solo)', async () => {
    const db = await exampleDatabase(pg, { variants: ['worker-owns-tenant-table'] })
    const result = await runOnExample('5.7', db)
    const evidence = new RegExp(`${escapeRegExp(db.appRole)} owns tenant table public\\.invoices: .*NO FORCE.*${OWNER_FIX}`)
    checkStep(
      GROUP,
      'the worker role owns the tenant table (solo)',
      result,
      { code: 1, gates: { 'rls-role': 'fail', runtime: 'pass' }, evidence, timeoutS: 30, secrets: secrets(db) },
      'rls-role fails naming the role, public.invoices and ALTER TABLE … OWNER TO "<migration role>"'
    )
    // The placeholder is said to be one: the user fills in their migration role.
    expect(gate(result, 'rls-role').evidence).toMatch(/replace "<migration role>" with the role that runs your migrations/)
  })

  it("fails when the worker role is a member of the tenant table's owner (prefork), and notes the broker tables", async () => {
    const db = await exampleDatabase(pg, { variants: ['worker-member-of-owner'] })
    const result = await runOnExample('5.7', db, { 'worker-args': '--pool=prefork --concurrency=2' })
    const evidence = new RegExp(
      `${escapeRegExp(db.appRole)} is a member of ${escapeRegExp(db.ownerRole)}, the owner of tenant table public\\.invoices .*${OWNER_FIX}.*REVOKE "${escapeRegExp(db.ownerRole)}" FROM "${escapeRegExp(db.appRole)}"`
    )
    checkStep(
      GROUP,
      "the worker role is a member of the tenant table's owner (prefork)",
      result,
      { code: 1, gates: { 'rls-role': 'fail', runtime: 'pass' }, evidence, timeoutS: 30, secrets: secrets(db) },
      'rls-role fails naming the role, the owner role, public.invoices, the OWNER TO fix and the REVOKE'
    )
    // The broker/result tables are owned by the same role: said with why, not failed for it.
    expect(gate(result, 'rls-role').evidence).toMatch(
      new RegExp(
        `⚠️ ${escapeRegExp(db.appRole)} may act as the owner \\(member of ${escapeRegExp(db.ownerRole)}\\) of the broker/result tables .*kombu_message.*can DROP`
      )
    )
  })

  it('fails the bootstrap superuser with a fix PostgreSQL accepts: a dedicated role', async () => {
    const db = await exampleDatabase(pg)
    const url = pg.url(db.database, SUPERUSER, pg.superPassword)
    const result = await runOnExample('5.7', db, { 'expected-role': SUPERUSER }, { env: { DATABASE_URL: url } })
    checkStep(
      GROUP,
      'the worker connects as the bootstrap superuser',
      result,
      {
        code: 1,
        gates: { 'rls-role': 'fail', runtime: 'pass' },
        evidence:
          /postgres is SUPERUSER: .*bootstrap superuser, for which PostgreSQL refuses ALTER ROLE "postgres" NOSUPERUSER: connect the worker as a dedicated least-privilege role/,
        timeoutS: 30,
        secrets: [pg.superPassword, encodeURIComponent(pg.superPassword), url]
      },
      'rls-role fails, saying NOSUPERUSER is refused for the bootstrap superuser and to use a dedicated role'
    )
  })

  it('accepts a role listed in allowed-roles', async () => {
    const db = await exampleDatabase(pg)
    const other = `${db.database}_reporting`
    await pg.query(db.database, `CREATE ROLE "${other}" NOLOGIN`)
    const result = await runOnExample('5.7', db, { 'expected-role': other, 'allowed-roles': `\n${db.appRole}\n` })
    checkStep(
      GROUP,
      'the worker uses a role listed in allowed-roles',
      result,
      { code: 0, gates: { 'rls-role': 'pass' }, evidence: new RegExp(`all ${escapeRegExp(db.appRole)}`), timeoutS: 30, secrets: secrets(db) },
      'rls-role passes: every session uses a role of allowed-roles'
    )
  })
})
