// One privilege list (src/db/privileges.ts) for the db-access gate, the `sql` command's grants and
// README's table: README is regenerated from it, and each reader takes what it should from it.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { grantStatements, objectsOf, privilegeNeeds } from '../../src/db/privileges.js'
import { README_FILE, withPrivilegeTable } from '../../scripts/write-privileges-table.js'

const tables = { queue: 'kombu_queue', message: 'kombu_message', task: 'celery_taskmeta', group: 'celery_tasksetmeta' }

describe('privileges', () => {
  it("README's privilege table is what scripts/write-privileges-table.ts generates now", () => {
    const readme = readFileSync(README_FILE, 'utf8')
    expect(readme, 'README.md is stale: run `npx tsx scripts/write-privileges-table.ts` and commit the result').toBe(withPrivilegeTable(readme))
  })

  it('db-access checks the 14 required privileges, each on the role of its side', () => {
    const needs = privilegeNeeds(objectsOf(tables), { broker: 'broker_role', results: 'result_role' })
    expect(needs).toHaveLength(14)
    expect(needs.filter((n) => n.privilege === 'DELETE')).toEqual([])
    expect(new Set(needs.filter((n) => /kombu|queue_id|message_id/.test(n.object)).map((n) => n.role))).toEqual(new Set(['broker_role']))
    expect(new Set(needs.filter((n) => /celery|task/.test(n.object)).map((n) => n.role))).toEqual(new Set(['result_role']))
  })

  it("puts Celery's sequences in the result table's configured schema, as Celery's configure() does", () => {
    const needs = privilegeNeeds(objectsOf({ ...tables, task_schema: 'results' }), { broker: 'a', results: 'a' })
    expect(needs.find((n) => n.object.endsWith('task_id_sequence'))?.regclass).toBe('"results"."task_id_sequence"')
    expect(needs.find((n) => n.object.endsWith('taskset_id_sequence'))?.regclass).toBe('"taskset_id_sequence"')
  })

  it('grants one statement per object, required and optional apart, with quoted names', () => {
    const objects = objectsOf({ ...tables, task: 'Task Meta', task_schema: 'res"ults' })
    expect(grantStatements(objects, 'app "user"', { optional: false })).toEqual([
      'GRANT SELECT, INSERT ON "kombu_queue" TO "app ""user""";',
      'GRANT SELECT, INSERT, UPDATE ON "kombu_message" TO "app ""user""";',
      'GRANT USAGE ON SEQUENCE "queue_id_sequence" TO "app ""user""";',
      'GRANT USAGE ON SEQUENCE "message_id_sequence" TO "app ""user""";',
      'GRANT SELECT, INSERT, UPDATE ON "res""ults"."Task Meta" TO "app ""user""";',
      'GRANT SELECT, INSERT ON "celery_tasksetmeta" TO "app ""user""";',
      'GRANT USAGE ON SEQUENCE "res""ults"."task_id_sequence" TO "app ""user""";',
      'GRANT USAGE ON SEQUENCE "taskset_id_sequence" TO "app ""user""";'
    ])
    expect(grantStatements(objects, 'w', { optional: true })).toEqual([
      'GRANT DELETE ON "kombu_queue" TO "w";',
      'GRANT DELETE ON "kombu_message" TO "w";',
      'GRANT DELETE ON "res""ults"."Task Meta" TO "w";'
    ])
    // Only the parts present: no broker tables for another transport.
    const { task, group } = objects
    expect(grantStatements({ task, group }, 'w', { optional: false }).some((g) => g.includes('kombu'))).toBe(false)
  })
})
