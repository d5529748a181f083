// db-access against the installed packages' models, beyond columns (issue 14): the named sequences
// kombu and Celery take ids from (present, a sequence, not owned by the worker's role) and the
// models' unique constraints (UNIQUE(task_id)). The bundled action on the example app, a real
// PostgreSQL and a real Celery 5.7 worker; each variant breaks one thing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gate } from '../support/action.js'
import { exampleDatabase, runOnExample, secretsOf } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

describe('db-access: sequences and unique constraints', () => {
  it("missing broker sequences fail db-access, naming the sequence and the owner's CREATE SEQUENCE", async () => {
    const db = await exampleDatabase(pg, { variants: ['missing-sequences'] })
    const result = await runOnExample('5.7', db, { timeout: '30' })
    checkStep(
      'Faults',
      'broker sequences missing',
      result,
      {
        code: 1,
        gates: { 'db-access': 'fail' },
        evidence: /sequence queue_id_sequence does not exist: kombu 5\.7\.\d+'s queue model takes kombu_queue\.id from it/,
        timeoutS: 30,
        secrets: secretsOf(db)
      },
      'db-access names each missing sequence and the statement the owner runs'
    )
    const evidence = gate(result, 'db-access').evidence
    expect(evidence).toContain(`the owner (${db.ownerRole}) runs \`CREATE SEQUENCE IF NOT EXISTS "queue_id_sequence"\``)
    expect(evidence).toContain('sequence message_id_sequence does not exist')
    // Said once, with its fix: not a second bare "does not exist" line from the privilege check.
    expect(evidence).not.toMatch(/^queue_id_sequence does not exist$/m)
  })

  it('a result table without UNIQUE(task_id): db-access warns with the ALTER TABLE; every other gate passes', async () => {
    const db = await exampleDatabase(pg, { variants: ['no-unique-task-id'] })
    const result = await runOnExample('5.7', db, { timeout: '30' })
    checkStep(
      'Faults',
      'result table without UNIQUE(task_id)',
      result,
      {
        code: 0,
        gates: { 'db-access': 'warn', runtime: 'pass' },
        evidence: /celery_taskmeta has no unique constraint on \(task_id\)/,
        timeoutS: 30,
        secrets: secretsOf(db)
      },
      'db-access warns naming the statement; the worker works'
    )
    expect(gate(result, 'db-access').evidence).toContain('runs `ALTER TABLE "celery_taskmeta" ADD UNIQUE ("task_id")`')
  })

  it("a sequence the worker's role owns: db-access warns with the ALTER SEQUENCE … OWNER TO", async () => {
    const db = await exampleDatabase(pg, { variants: ['worker-owns-sequence'] })
    const result = await runOnExample('5.7', db, { timeout: '30' })
    checkStep(
      'Faults',
      "a sequence owned by the worker's role",
      result,
      {
        code: 0,
        gates: { 'db-access': 'warn' },
        evidence: new RegExp(`the worker's role ${db.appRole} owns sequence task_id_sequence`),
        timeoutS: 30,
        secrets: secretsOf(db)
      },
      'db-access warns, naming the owner to give it back to'
    )
    expect(gate(result, 'db-access').evidence).toContain(`ALTER SEQUENCE "task_id_sequence" OWNER TO "${db.ownerRole}"`)
  })
})
