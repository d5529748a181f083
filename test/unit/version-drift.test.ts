// The pure half of the version-drift checks: the worker's result-store lines, the driver and
// engine-option problems from drift.py's report, and a table compared with a model. The lines and
// the model below are what Celery 5.7 / kombu 5.7 / SQLAlchemy 2.1.9 printed and reported here.
import { describe, expect, it } from 'vitest'
import { addColumnsStatement, compareTable, driftProblems } from '../../src/celery/drift.js'
import type { ProbeReport, TableModel } from '../../src/celery/probe.js'
import { classifyLine } from '../../src/celery/worker-output.js'

const RUN = { nodeName: 'cfg-371c72a7@vm', taskId: '9f1c2d4e-5b6a-4c3d-8e9f-0a1b2c3d4e5f' }

describe('result-store lines', () => {
  it('reads the column from UndefinedColumn, in plain and JSON logs', () => {
    const plain =
      'sqlalchemy.exc.ProgrammingError: (psycopg.errors.UndefinedColumn) column celery_taskmeta.children does not exist\nLINE 1: ...celery_taskmeta.traceback AS celery_taskmeta_traceback, celery_t...'
    expect(classifyLine(plain, RUN)).toEqual({
      kind: 'result-store',
      table: 'celery_taskmeta',
      column: 'children',
      cause: 'UndefinedColumn: column celery_taskmeta.children does not exist'
    })
    const json = JSON.stringify({ level: 'WARNING', logger: 'celery.backends.base', message: 'Failed operation _store_result.', exc_info: plain })
    expect(classifyLine(json, RUN)).toMatchObject({ kind: 'result-store', table: 'celery_taskmeta', column: 'children' })
  })

  it('reads BackendStoreError without a column', () => {
    expect(classifyLine('celery.exceptions.BackendStoreError: failed to store result on the backend', RUN)).toEqual({
      kind: 'result-store',
      cause: 'BackendStoreError: failed to store result on the backend'
    })
  })

  it("reads Celery's boot WARNING for a column it could not add", () => {
    const line =
      "[2026-12-07 03:34:40,101: WARNING/MainProcess] Failed to add missing column 'stamps' to table 'celery_taskmeta'. To enable storing task children, execute: ALTER TABLE celery_taskmeta ADD COLUMN \"stamps\" BYTEA. Error: (psycopg.errors.InsufficientPrivilege) must be owner of table celery_taskmeta"
    expect(classifyLine(line, RUN)).toEqual({ kind: 'result-column-not-added', column: 'stamps' })
  })

  it('keeps a permission error a db-denied finding', () => {
    expect(classifyLine('psycopg.errors.InsufficientPrivilege: permission denied for table celery_taskmeta', RUN)).toEqual({
      kind: 'db-denied',
      object: 'celery_taskmeta'
    })
  })
})

const column = (name: string, type: string, extra: Partial<TableModel['columns'][number]> = {}): TableModel['columns'][number] => ({
  name,
  type,
  nullable: true,
  primary_key: false,
  used: true,
  sequence: null,
  ...extra
})

const TASK: TableModel = {
  columns: [
    column('id', 'INTEGER', { nullable: false, primary_key: true, sequence: 'task_id_sequence' }),
    column('task_id', 'VARCHAR(155)'),
    column('date_done', 'TIMESTAMP WITHOUT TIME ZONE'),
    column('children', 'BYTEA'),
    column('stamps', 'BYTEA')
  ],
  indexes: [{ name: 'ix_celery_taskmeta_date_done', columns: ['date_done'], unique: false }]
}

describe('compareTable', () => {
  it('names the missing columns and the ALTER TABLE that adds them with their model types', () => {
    const drift = compareTable('celery_taskmeta', null, TASK, [
      { column: 'id', type: 'integer', nullable: false },
      { column: 'task_id', type: 'character varying(155)', nullable: true },
      { column: 'date_done', type: 'timestamp without time zone', nullable: true }
    ])
    expect(drift.missing).toEqual(['children', 'stamps'])
    expect(drift.mismatched).toEqual([])
    expect(drift.statements).toEqual(['ALTER TABLE "celery_taskmeta" ADD COLUMN "children" BYTEA, ADD COLUMN "stamps" BYTEA'])
  })

  it('reports a different type and a NOT NULL the model does not fill', () => {
    const drift = compareTable('celery_taskmeta', 'results', TASK, [
      { column: 'id', type: 'integer', nullable: false },
      { column: 'task_id', type: 'text', nullable: false },
      { column: 'date_done', type: 'timestamp without time zone', nullable: true },
      { column: 'children', type: 'bytea', nullable: true },
      { column: 'stamps', type: 'bytea', nullable: true }
    ])
    expect(drift.missing).toEqual([])
    expect(drift.mismatched).toEqual([
      'celery_taskmeta.task_id is text, the installed model has character varying(155)',
      'celery_taskmeta.task_id is NOT NULL, the installed model leaves it empty: ALTER TABLE "results"."celery_taskmeta" ALTER COLUMN "task_id" DROP NOT NULL'
    ])
  })

  it('keeps a hostile type out of the statement', () => {
    const model: TableModel = { columns: [column('x', 'BYTEA; DROP TABLE t')], indexes: [] }
    expect(compareTable('t', null, model, []).statements).toEqual(['ALTER TABLE "t" ADD COLUMN "x" <type>'])
    expect(addColumnsStatement('t', null, model, ['x', 'y'])).toBe('ALTER TABLE "t" ADD COLUMN "x" <type>, ADD COLUMN "y" <type>')
  })
})

function probeWith(drift: ProbeReport['drift'], versions: Partial<ProbeReport['versions']> = {}): ProbeReport {
  return {
    versions: { python: '3.11.7', celery: '5.7.0', kombu: '5.7.0', sqlalchemy: '2.1.9', ...versions },
    drift
  } as ProbeReport
}

describe('driftProblems', () => {
  it('names a psycopg that does not import, with both fixes when psycopg2 is there', () => {
    const problems = driftProblems(
      probeWith(
        { drivers: { broker: { driver: 'psycopg', module: 'psycopg', error: "ModuleNotFoundError: No module named 'psycopg'" }, results: null } },
        { psycopg2: '2.9.10' }
      )
    )
    expect(problems).toEqual([
      'the broker URL gets the driver psycopg from SQLAlchemy 2.1.9, and its module does not import in python (ModuleNotFoundError: No module named \'psycopg\'): install it (pip install "psycopg[binary]"), or keep the installed psycopg2 by writing postgresql+psycopg2:// in the URL'
    ])
  })

  it('names the transport options create_engine rejects', () => {
    const [problem] = driftProblems(probeWith({ engine_options: { keys: ['polling_interval', 'x'], rejected: ['polling_interval'], error: 'TypeError: …' } }))
    expect(problem).toMatch(
      /^broker_transport_options 'polling_interval': kombu's sqla transport hands these to SQLAlchemy's create_engine\(\)[\s\S]*remove it/
    )
  })

  it("names the database_engine_options the result backend's create_engine rejects", () => {
    const [problem] = driftProblems(probeWith({ backend_engine_options: { keys: ['visibility_timeout'], rejected: ['visibility_timeout'] } }))
    expect(problem).toMatch(
      /^database_engine_options 'visibility_timeout': Celery's result backend hands these to SQLAlchemy's create_engine\(\)[\s\S]*remove it from database_engine_options$/
    )
  })

  it('says nothing when everything loads', () => {
    expect(
      driftProblems(probeWith({ drivers: { broker: { driver: 'psycopg', module: 'psycopg' }, results: { driver: 'psycopg', module: 'psycopg' } } }))
    ).toEqual([])
    expect(driftProblems(probeWith(undefined))).toEqual([])
  })
})
