import { describe, expect, it } from 'vitest'
import { grantFor, PGMQ_NEEDS, pgmqGrantScript, queueNameProblem, queueTables } from '../../src/db/pgmq-privileges.js'
import { PGMQ_MAX_QUEUE_NAME, pgmqQueueName, pidboxQueue } from '../../src/planes/envelope.js'
import { withoutSqlaBroker } from '../../src/gates/db-access-pgmq.js'
import { describeInstall, installAdvice } from '../../src/planes/pgmq-boot.js'
import { probeReport } from '../support/gate-facts.js'

describe("PGMQ queue names as kombu's pgmq transport makes them", () => {
  it('prefixes and turns every punctuation character but _ into _ (Channel.entity_name)', () => {
    expect(pgmqQueueName('', 'celery')).toBe('celery')
    expect(pgmqQueueName('app-', 'celery')).toBe('app_celery')
    expect(pidboxQueue('', 'w1@host.example')).toBe('w1_host_example_celery_pidbox')
    expect(pgmqQueueName('', 'a.b:c/d-e_f!g')).toBe('a_b_c_d_e_f_g')
  })

  it("names the two tables pgmq.create() makes, lower-cased as PGMQ's format_table_name does", () => {
    expect(queueTables('Reports_Q')).toEqual({ queue: 'q_reports_q', archive: 'a_reports_q' })
  })

  it('refuses names over 47 characters, as pgmq.validate_queue_name does', () => {
    expect(queueNameProblem('x'.repeat(PGMQ_MAX_QUEUE_NAME))).toBeUndefined()
    expect(queueNameProblem('x'.repeat(PGMQ_MAX_QUEUE_NAME + 1))).toBe("longer than PGMQ's 47 characters (48)")
  })
})

describe('the PGMQ privilege table', () => {
  it('says why for every need, and names each function as a regprocedure', () => {
    for (const need of PGMQ_NEEDS) {
      expect(need.why.length).toBeGreaterThan(10)
      if (need.kind === 'function') expect(need.object).toMatch(/^pgmq\.("?\w+"?)\([a-z ,]*\)$/)
    }
    const keys = PGMQ_NEEDS.map((n) => `${n.kind} ${n.object} ${n.privilege}`)
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('writes the GRANT with the role quoted', () => {
    const [usage] = PGMQ_NEEDS
    expect(grantFor(usage!, 'App-User')).toBe('GRANT USAGE ON SCHEMA pgmq TO "App-User"')
    expect(grantFor({ kind: 'table', object: 'pgmq.meta', privilege: 'INSERT', why: 'x' }, 'w')).toBe('GRANT INSERT ON pgmq.meta TO "w"')
    expect(grantFor({ kind: 'function', object: 'pgmq.delete(text,bigint)', privilege: 'EXECUTE', why: 'x' }, 'w')).toBe(
      'GRANT EXECUTE ON FUNCTION pgmq.delete(text,bigint) TO "w"'
    )
  })
})

describe('PGMQ evidence', () => {
  it('names the version of an extension, and what is known of a SQL-only install', () => {
    expect(describeInstall({ schema: true, extension: { version: '1.13.0', owner: 'admin' }, functions: 76 })).toBe('PGMQ 1.13.0 (extension, owner admin)')
    expect(describeInstall({ schema: true, functions: 76 }, { package: '1.1.4', bundled_sql: '1.13.0' })).toBe(
      "PGMQ SQL-only install (schema pgmq, 76 functions; no version recorded in the database; the worker's pgmq package 1.1.4 bundles PGMQ 1.13.0)"
    )
  })

  it('gives both ways to install PGMQ', () => {
    expect(installAdvice('app')).toContain('CREATE EXTENSION pgmq')
    expect(installAdvice('app')).toContain("install_pgmq_from_sql(dsn='postgresql://OWNER@HOST/app')")
  })
})

describe("the sql command's PGMQ part", () => {
  it('guards on PGMQ being installed, then grants every need once, privileges on one object together', () => {
    const script = pgmqGrantScript('app_user')
    expect(script.find((l) => l.startsWith('DO $$'))).toContain("to_regnamespace('pgmq') IS NULL")
    const grants = script.filter((l) => l.startsWith('GRANT '))
    expect(grants).toContain('GRANT USAGE, CREATE ON SCHEMA pgmq TO "app_user";')
    expect(grants).toContain('GRANT SELECT, INSERT ON pgmq.meta TO "app_user";')
    expect(grants).toContain('GRANT SELECT, INSERT ON pgmq.topic_bindings TO "app_user";')
    expect(grants.filter((g) => g.includes('EXECUTE'))).toHaveLength(PGMQ_NEEDS.filter((n) => n.kind === 'function').length)
    expect(script.filter((l) => !l.startsWith('--')).every((l) => l.endsWith(';'))).toBe(true)
  })
})

describe('db-access on PGMQ keeps the result tables only', () => {
  it("drops kombu's sqla broker tables and their sequences, on PGMQ only", () => {
    const probe = probeReport({ tables: { queue: 'q_t', message: 'm_t', task: 'celery_taskmeta', group: 'celery_tasksetmeta' } })
    const needs = ['q_t', 'm_t', 'queue_id_sequence', 'message_id_sequence', 'celery_taskmeta', 'task_id_sequence'].map((object) => ({ object }))
    expect(withoutSqlaBroker(needs, probe, true).map((n) => n.object)).toEqual(['celery_taskmeta', 'task_id_sequence'])
    expect(withoutSqlaBroker(needs, probe, false)).toEqual(needs)
  })
})
