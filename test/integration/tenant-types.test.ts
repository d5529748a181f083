// tenant-isolation's "random tenant" follows the tenant column's type: with an integer tenant_id
// a uuid makes the policy raise (invalid input syntax for type integer), which proved nothing and
// showed as ⚠️ with contradictory evidence. On invoices keyed by an integer tenant (variant
// int-tenant-invoices) the gate must pass, and still fail when a permissive policy lets every row
// through. Real PostgreSQL, a real Celery 5.7 worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gate } from '../support/action.js'
import { exampleDatabase, runOnExample, secretsOf } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'

const GROUP = 'Faults'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

describe('tenant-isolation: the random tenant follows the tenant column type', () => {
  it('passes on an integer tenant_id', async () => {
    const db = await exampleDatabase(pg, { variants: ['int-tenant-invoices'] })
    const result = await runOnExample('5.7', db)
    checkStep(
      GROUP,
      'tenant-isolation on an integer tenant_id',
      result,
      {
        code: 0,
        gates: { 'tenant-isolation': 'pass', 'rls-role': 'pass' },
        evidence: /public\.invoices — no row without a tenant, none for a random tenant \(app\.current_tenant_id\)/,
        timeoutS: 30,
        secrets: secretsOf(db)
      },
      'tenant-isolation passes: the random tenant is an integer no row has, so the policy does not raise'
    )
    expect(gate(result, 'tenant-isolation').evidence).not.toMatch(/invalid input syntax/)
  })

  it('still fails on an integer tenant_id with a permissive policy', async () => {
    const db = await exampleDatabase(pg, { variants: ['int-tenant-invoices', 'permissive-policy'] })
    const result = await runOnExample('5.7', db)
    checkStep(
      GROUP,
      'tenant-isolation on an integer tenant_id with a permissive policy',
      result,
      {
        code: 1,
        gates: { 'tenant-isolation': 'fail' },
        evidence: /public\.invoices: 3 rows visible with no tenant set[\s\S]*public\.invoices: a random tenant \(app\.current_tenant_id\) sees 3 existing rows/,
        timeoutS: 30,
        secrets: secretsOf(db)
      },
      'tenant-isolation fails: every row visible with no tenant and to a random (integer) tenant'
    )
    expect(gate(result, 'tenant-isolation').evidence).not.toMatch(/invalid input syntax/)
  })
})
