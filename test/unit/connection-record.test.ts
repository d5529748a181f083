// The worker's connection record (connections.py writes it in the run's folder) is untrusted
// input: bounded, schema-checked, scrubbed; then judged by rls-role like the sessions it sees.
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { CONNECTIONS_MAX_BYTES, parseConnections, readConnections } from '../../src/celery/connections.js'
import { identityFindings } from '../../src/gates/rls-role.js'

const line = (o: Record<string, unknown>): string => JSON.stringify(o)
const keep = (t: string): string => t

describe('parseConnections', () => {
  it('aggregates one identity per role, where and source, with a count', () => {
    const text = [
      line({ role: 'postgres', source: 'psycopg', where: 'app.db', application_name: 'x', pid: 1 }),
      line({ role: 'postgres', source: 'psycopg', where: 'app.db', pid: 2 }),
      line({ role: 'app_user', source: 'sqlalchemy', where: 'broker' })
    ].join('\n')
    expect(parseConnections(text, keep)).toEqual({
      identities: [
        { role: 'postgres', where: 'app.db', source: 'psycopg', count: 2, applicationName: 'x' },
        { role: 'app_user', where: 'broker', source: 'sqlalchemy', count: 1 }
      ],
      rejected: 0
    })
  })

  it('counts lines that are not JSON or not the schema, and never trusts them', () => {
    const text = ['not json', line({ role: '', source: 'psycopg' }), line({ role: 'r', source: 'asyncpg' }), line({ role: 'r', source: 'psycopg' })].join('\n')
    const out = parseConnections(text, keep)
    expect(out.rejected).toBe(3)
    expect(out.identities).toEqual([{ role: 'r', where: 'unknown', source: 'psycopg', count: 1 }])
  })

  it('scrubs control characters and secrets from what it keeps', () => {
    const text = line({ role: 'app\u001b[31m', source: 'psycopg', where: 'mod secret-token' })
    const out = parseConnections(text, (t) => t.replace('secret-token', '***'))
    expect(out.identities[0]).toMatchObject({ role: 'app?[31m', where: 'mod ***' })
  })
})

describe('readConnections', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'conn-record-'))

  it('says when there is no record', () => {
    expect(readConnections(path.join(dir, 'absent.jsonl'), keep)).toMatchObject({ missing: true, identities: [] })
  })

  it('reads at most CONNECTIONS_MAX_BYTES, dropping the line cut by the bound', () => {
    const file = path.join(dir, 'big.jsonl')
    const one = line({ role: 'r', source: 'psycopg', where: 'm' }) + '\n'
    writeFileSync(file, one.repeat(Math.ceil(CONNECTIONS_MAX_BYTES / one.length) + 10))
    const out = readConnections(file, keep)
    expect(out.truncated).toBe(true)
    expect(out.rejected).toBe(0)
    expect(out.identities[0]?.count).toBe(Math.floor(CONNECTIONS_MAX_BYTES / one.length))
  })

  it("does not follow a symlink put in the record's place", () => {
    const target = path.join(dir, 'target.jsonl')
    writeFileSync(target, line({ role: 'r', source: 'psycopg' }) + '\n')
    const link = path.join(dir, 'link.jsonl')
    symlinkSync(target, link)
    expect(readConnections(link, keep)).toMatchObject({ identities: [], missing: true })
  })
})

describe('identityFindings', () => {
  const record = {
    identities: [
      { role: 'postgres', where: 'app.db', source: 'psycopg', count: 3 },
      { role: 'app_user', where: 'broker', source: 'sqlalchemy', count: 1 },
      { role: 'reporting', where: 'app.reports', source: 'psycopg2', count: 1 }
    ],
    rejected: 0,
    truncated: false,
    missing: false
  }

  it('fails a role that is neither expected-role nor in allowed-roles, saying where and how often', () => {
    const out = identityFindings(record, 'app_user', ['reporting'])
    expect(out.problems).toEqual([
      'app.db via psycopg: 3 connections as postgres, expected app_user or one of allowed-roles (reporting): connect it as app_user, or add a role meant for it to allowed-roles'
    ])
    expect(out.usedBy.get('postgres')).toEqual(['app.db via psycopg: 3 connections as postgres'])
    expect(out.lines[0]).toMatch(/recorded in-process\): app\.db via psycopg: 3 connections as postgres; broker via sqlalchemy: 1 connection as app_user/)
  })

  it('says when entries were ignored or the record was cut', () => {
    const out = identityFindings({ ...record, rejected: 2, truncated: true }, 'app_user', [])
    expect(out.lines.join('\n')).toMatch(/2 entries of the connection record were not understood/)
    expect(out.lines.join('\n')).toMatch(/cut at 1 MiB/)
  })
})
