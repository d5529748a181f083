// The `sql` command's script from a schema report (what schema.py writes): wrapped for the owner,
// grants from db/privileges.ts, schemas, other transports and backends, PGMQ's extension point,
// and text from the user's interpreter kept inside comments. The real report, applied to a real
// database and run by real workers: test/integration/sql-command.test.ts.
import { describe, expect, it } from 'vitest'
import { brokerKind, renderSql } from '../../src/sql/render.js'
import type { SchemaReport } from '../../src/sql/schema-probe.js'

const part = (objects: Record<string, { name: string; schema?: string | null; seq: string }>, statements: string[]) => ({
  statements,
  objects: Object.fromEntries(
    Object.entries(objects).map(([k, o]) => [k, { name: o.name, schema: o.schema ?? null, sequences: [{ name: o.seq, schema: o.schema ?? null }] }])
  )
})

function report(over: Partial<SchemaReport> = {}): SchemaReport {
  return {
    event: 'schema',
    versions: { celery: '5.7.0', kombu: '5.7.0', sqlalchemy: '2.1.9' },
    transport: { scheme: 'sqla+postgresql', transport_class: 'kombu.transport.sqlalchemy.Transport', error: null },
    backend_class: 'celery.backends.database.DatabaseBackend',
    broker: part({ queue: { name: 'kombu_queue', seq: 'queue_id_sequence' }, message: { name: 'kombu_message', seq: 'message_id_sequence' } }, [
      'CREATE SEQUENCE IF NOT EXISTS queue_id_sequence',
      'CREATE TABLE IF NOT EXISTS kombu_queue (\n  id INTEGER NOT NULL\n)'
    ]),
    results: part(
      { task: { name: 'taskmeta', schema: 'results', seq: 'task_id_sequence' }, group: { name: 'celery_tasksetmeta', seq: 'taskset_id_sequence' } },
      ['CREATE SEQUENCE IF NOT EXISTS results.task_id_sequence', 'CREATE TABLE IF NOT EXISTS results.taskmeta (\n  id INTEGER NOT NULL\n)']
    ),
    ...over
  }
}

describe('renderSql', () => {
  it('creates as the owner inside one transaction, then grants the worker what db-access checks', () => {
    const sql = renderSql(report(), { app: 'app.celery_app', owner: 'migrator', role: 'app_user', transport: 'auto' })
    const order = [
      'BEGIN;',
      'GRANT USAGE, CREATE ON SCHEMA "public" TO "migrator";',
      'CREATE SCHEMA IF NOT EXISTS "results" AUTHORIZATION "migrator";',
      'SET ROLE "migrator";',
      'CREATE SEQUENCE IF NOT EXISTS queue_id_sequence;',
      'CREATE TABLE IF NOT EXISTS results.taskmeta (',
      'GRANT SELECT, INSERT, UPDATE ON "results"."taskmeta" TO "app_user";',
      'GRANT USAGE ON SEQUENCE "results"."task_id_sequence" TO "app_user";',
      'GRANT DELETE ON "kombu_message" TO "app_user";',
      'RESET ROLE;',
      'COMMIT;'
    ]
    const at = order.map((line) => sql.indexOf(line))
    expect(
      at.every((i) => i >= 0),
      JSON.stringify(at)
    ).toBe(true)
    expect([...at].sort((a, b) => a - b)).toEqual(at)
    expect(sql).toContain('GRANT USAGE ON SCHEMA "results" TO "app_user";')
    expect(sql).toMatch(/Celery 5\.7\.0, kombu 5\.7\.0, SQLAlchemy 2\.1\.9/)
  })

  it('without --owner and --role: no SET ROLE, no grants, and says how to get them', () => {
    const sql = renderSql(report(), { app: 'a', transport: 'auto' })
    expect(sql).not.toMatch(/SET ROLE|GRANT/)
    expect(sql).toContain("-- No --role: add --role <the worker's role> for its grants.")
  })

  it('quotes role names and keeps text from the interpreter inside comments', () => {
    const sql = renderSql(report({ versions: { celery: '5.7\nDROP TABLE x; --', kombu: null, sqlalchemy: null } }), {
      app: 'a',
      owner: 'own"er',
      role: 'app user',
      transport: 'auto'
    })
    expect(sql).toContain('SET ROLE "own""er";')
    expect(sql).toContain('TO "app user";')
    const quoted = sql.split('\n').filter((l) => l.includes('DROP TABLE'))
    expect(quoted.length).toBeGreaterThan(0)
    expect(quoted.filter((l) => !l.startsWith('-- '))).toEqual([])
  })

  it('a broker that keeps no tables in PostgreSQL, and no database backend: says so, grants nothing for them', () => {
    const r = report({
      transport: { scheme: 'redis', transport_class: 'kombu.transport.redis.Transport' },
      broker: undefined,
      backend_class: 'celery.backends.rpc.RPCBackend',
      results: undefined
    })
    const sql = renderSql(r, { app: 'a', owner: 'o', role: 'w', transport: 'auto' })
    expect(sql).toContain('-- Broker: kombu.transport.redis.Transport keeps no tables in PostgreSQL.')
    expect(sql).toContain('-- Results: celery.backends.rpc.RPCBackend keeps no tables in PostgreSQL.')
    expect(sql).not.toMatch(/^GRANT/m)
  })

  it("pgmq:// (or --transport pgmq): PGMQ's section with the install step, no kombu tables", () => {
    const r = report({ transport: { scheme: 'pgmq', transport_class: 'kombu.transport.pgmq.Transport' }, broker: undefined })
    expect(brokerKind(r, 'auto')).toBe('pgmq')
    expect(brokerKind(report(), 'pgmq')).toBe('pgmq')
    const sql = renderSql(r, { app: 'a', owner: 'o', role: 'w', transport: 'auto' })
    expect(sql).toContain("-- Broker: PGMQ (kombu's pgmq:// transport).")
    expect(sql).toContain("run the pgmq package's SQL install as the owner")
    expect(sql).not.toContain('kombu_queue')
    expect(sql).toContain('GRANT USAGE, CREATE ON SCHEMA pgmq TO "w";')
    expect(sql).toContain('GRANT SELECT, INSERT, UPDATE ON "results"."taskmeta" TO "w";')
  })
})
