// What rls-role says about the sessions sampled in pg_stat_activity during the run
// (src/run/session-sampler.ts whereOf, src/gates/rls-role.ts sampledFindings and the owner
// finding for a role the app's code logs in as).
import { describe, expect, it } from 'vitest'
import { ownershipFindings, sampledFindings } from '../../src/gates/rls-role.js'
import { whereOf } from '../../src/run/session-sampler.js'

const row = (over: Partial<Parameters<typeof whereOf>[0]>) => ({
  pid: 1,
  usename: 'postgres',
  application_name: 'cfg-1',
  client_port: null,
  backend_start: 't',
  ...over
})
const clean = (t: string): string => t.replace('s3cret', '***')

describe('whereOf', () => {
  it('names the process that holds the client port, and an application_name other than the run’s', () => {
    const owners = new Map([[40000, 'psql']])
    expect(whereOf(row({ client_port: 40000 }), owners, 'cfg-1', clean)).toBe('psql process')
    expect(whereOf(row({ client_port: 40000, application_name: 'etl-s3cret' }), owners, 'cfg-1', clean)).toBe('psql process (application_name etl-***)')
  })

  it('falls back to the run’s application_name when the port is not the tree’s or not visible', () => {
    expect(whereOf(row({}), new Map(), 'cfg-1', clean)).toBe("session with the run's application_name")
    expect(whereOf(row({ client_port: 1 }), new Map([[2, 'python3']]), 'cfg-1', clean)).toBe("session with the run's application_name")
  })
})

describe('sampledFindings', () => {
  const record = (over = {}) => ({
    identities: [{ role: 'postgres', where: 'psql process', source: 'pg_stat_activity', count: 2 }],
    samples: 7,
    dropped: 0,
    ...over
  })

  it('fails a sampled role other than expected-role, saying it was sampled and how often', () => {
    const out = sampledFindings(record(), 'app_user', [])
    expect(out.problems).toEqual([
      'psql process via pg_stat_activity: 2 connections as postgres, expected app_user: connect it as app_user, or add a role meant for it to allowed-roles'
    ])
    expect(out.lines[0]).toMatch(/^sessions of the worker's processes sampled in pg_stat_activity \(7 samples during the run\): psql process/)
    expect(out.usedBy.get('postgres')).toEqual(['psql process via pg_stat_activity: 2 connections as postgres'])
  })

  it('accepts allowed-roles, and says what was dropped or not sampled', () => {
    const out = sampledFindings(record({ dropped: 3, note: 'no PostgreSQL DSN to sample from' }), 'app_user', ['postgres'])
    expect(out.problems).toEqual([])
    expect(out.lines).toContain('⚠️ 3 more sampled sessions were not kept (bound reached)')
    expect(out.lines).toContain('sessions not sampled during the run: no PostgreSQL DSN to sample from')
  })
})

describe('ownershipFindings for a role the app logs in as', () => {
  const owned = [{ role: 'gate_owner', table: 'public.invoices', sqlName: '"public"."invoices"', owner: 'gate_owner', direct: true }]
  it('says where it was used and to connect that code as expected-role, not to move the table', () => {
    const usedBy = new Map([['gate_owner', ['app.db via psycopg: 2 connections as gate_owner']]])
    const { problems } = ownershipFindings(owned, new Set(['public.invoices']), { expected: 'app_user', usedBy })
    expect(problems).toEqual([
      "gate_owner owns tenant table public.invoices (used by app.db via psycopg: 2 connections as gate_owner): an owner can ALTER TABLE … NO FORCE or DISABLE ROW LEVEL SECURITY at any time and read every tenant's rows — connect that code as app_user; the table's owner stays a migration role that the app never logs in as"
    ])
  })

  it('keeps the OWNER TO fix for the expected role itself', () => {
    const usedBy = new Map([['gate_owner', ['broker via sqlalchemy: 1 connection as gate_owner']]])
    const { problems } = ownershipFindings(owned, new Set(['public.invoices']), { expected: 'gate_owner', usedBy })
    expect(problems[0]).toContain('OWNER TO "<migration role>"')
  })
})
