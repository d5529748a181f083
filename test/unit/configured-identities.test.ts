// The identities the app configures (configured.py writes them beside the connection record):
// untrusted input read bounded, schema-checked and scrubbed (configured.ts), then judged by
// rls-role with the rule of the identities used (rls-configured.ts).
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { CONFIGURED_FILE, parseConfigured, readIdentities, type ConfiguredRecord } from '../../src/celery/configured.js'
import { configuredFindings, roleContext, sameServer, type CheckedTarget } from '../../src/gates/rls-configured.js'

const line = (o: Record<string, unknown>): string => JSON.stringify(o)
const keep = (t: string): string => t
const base = { role_from: 'dsn', host: '127.0.0.1', port: 5432, dbname: 'app' }

describe('parseConfigured', () => {
  it('keeps each (role, where, server) once, with libpq defaults and unknown roles said', () => {
    const text = [
      line({ ...base, role: 'postgres', where: "DATABASES['reports']" }),
      line({ ...base, role: 'postgres', where: "DATABASES['reports']" }),
      line({ ...base, role: 'runner', role_from: 'os user', where: 'env PLAIN_URL' }),
      line({ ...base, role: null, role_from: 'unspecified', service: 'reports', where: 'env SERVICE_DSN' })
    ].join('\n')
    expect(parseConfigured(text, keep)).toEqual({
      identities: [
        { role: 'postgres', roleFrom: 'dsn', where: "DATABASES['reports']", host: '127.0.0.1', port: 5432, dbname: 'app' },
        { role: 'runner', roleFrom: 'os user', where: 'env PLAIN_URL', host: '127.0.0.1', port: 5432, dbname: 'app' },
        { roleFrom: 'unspecified', where: 'env SERVICE_DSN', host: '127.0.0.1', port: 5432, dbname: 'app', service: 'reports' }
      ],
      rejected: 0
    })
  })

  it('rejects what is not the schema (no where, a role said to come from the DSN but missing, a bad port)', () => {
    const text = [
      'not json',
      line({ ...base, role: 'r' }),
      line({ ...base, role: null, where: 'env X' }),
      line({ ...base, role: 'r', where: 'env X', port: 70000 }),
      line({ ...base, role: 'r', where: 'env X', role_from: 'guess' })
    ].join('\n')
    expect(parseConfigured(text, keep)).toEqual({ identities: [], rejected: 5 })
  })

  it('scrubs control characters and known secrets from every field it keeps', () => {
    const out = parseConfigured(line({ ...base, role: 'app\u001b[2J', where: 'env pw-s3cret', host: 'h s3cret' }), (t) => t.replaceAll('s3cret', '***'))
    expect(out.identities[0]).toMatchObject({ role: 'app?[2J', where: 'env pw-***', host: 'h ***' })
  })
})

describe('readIdentities', () => {
  it('reads the configured identities beside the connection record, not through a symlink', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-configured-'))
    const connections = path.join(dir, 'connections.jsonl')
    writeFileSync(path.join(dir, CONFIGURED_FILE), line({ ...base, role: 'app_user', where: 'env DATABASE_URL' }) + '\n')
    expect(readIdentities(connections, keep).configured).toMatchObject({ missing: false, identities: [{ role: 'app_user' }] })

    const other = path.join(dir, 'other')
    mkdirSync(other)
    symlinkSync(path.join(dir, CONFIGURED_FILE), path.join(other, CONFIGURED_FILE))
    expect(readIdentities(path.join(other, 'connections.jsonl'), keep).configured).toMatchObject({ missing: true, identities: [] })
  })
})

const target: CheckedTarget = { database: 'app', port: 5432, hosts: ['localhost', '127.0.0.1'] }
const record = (...identities: ConfiguredRecord['identities']): ConfiguredRecord => ({ identities, rejected: 0, truncated: false, missing: false })
const at = (role: string, where: string, more: Partial<ConfiguredRecord['identities'][number]> = {}) => ({
  role,
  roleFrom: 'dsn' as const,
  where,
  host: '127.0.0.1',
  port: 5432,
  dbname: 'app',
  ...more
})

describe('configuredFindings', () => {
  it('fails a configured role that is not expected, saying where, whether it was used, and what to do', () => {
    const out = configuredFindings(
      record(at('postgres', "DATABASES['reports']"), at('postgres', 'env REPORTS_URL'), at('app_user', 'celery conf broker_url')),
      'app_user',
      [],
      new Set(['app_user']),
      target,
      new Set(['postgres', 'app_user'])
    )
    expect(out.problems).toEqual([
      "postgres is configured at DATABASES['reports'], env REPORTS_URL (configured, not used during this run), expected app_user: configure app_user there (or a role meant for it, listed in allowed-roles), or remove it if the worker does not need it; an environment variable: if the worker does not need it, set it only on the steps that need it (the worker inherits the job's environment) — a credential in the worker's configuration is one its code can use"
    ])
    expect(out.lines[0]).toBe(
      "database identities the app configures (read after import): postgres at DATABASES['reports'], env REPORTS_URL (not used during this run); app_user at celery conf broker_url"
    )
    expect(roleContext('postgres', new Set(['app_user']), new Map(), out.configuredAt)).toBe(
      " (configured at DATABASES['reports'], env REPORTS_URL, not used during this run)"
    )
  })

  it('accepts allowed-roles, and says a libpq default role as such', () => {
    const out = configuredFindings(
      record(at('reporting', 'env R'), at('runner', 'env PLAIN', { roleFrom: 'os user' })),
      'app_user',
      ['reporting'],
      new Set(),
      target,
      new Set()
    )
    expect(out.problems).toHaveLength(1)
    expect(out.problems[0]).toMatch(
      /^runner \(libpq's default: the OS user\) is configured at env PLAIN .*expected app_user or one of allowed-roles \(reporting\)/
    )
  })

  it('judges another server only if its role exists here, and says what was not checked', () => {
    const elsewhere = { host: 'reports.internal', port: 5432 }
    const out = configuredFindings(
      record(
        at('ghost', 'env A', elsewhere),
        at('postgres', 'env B', elsewhere),
        at('app_user', 'env C', { dbname: 'other' }),
        at('x', 'env D', { role: undefined, roleFrom: 'unspecified', service: 'svc' })
      ),
      'app_user',
      ['ghost'],
      new Set(),
      target,
      new Set(['postgres', 'app_user'])
    )
    const text = [...out.problems, ...out.lines].join('\n')
    expect(out.configuredAt.has('ghost')).toBe(false)
    expect(text).toMatch(
      /not checked: env A \(ghost on reports\.internal:5432, not the checked server localhost:5432\); env D \(role unspecified \(libpq service svc\)\)/
    )
    expect(out.configuredAt.get('postgres')).toEqual([
      'env B (on reports.internal:5432, not the checked server: judged as the role postgres of the checked server)'
    ])
    expect(text).toMatch(/tenant-table ownership checked in database app only, not in other/)
  })

  it('says when the worker left no record of them', () => {
    const out = configuredFindings({ identities: [], rejected: 0, truncated: false, missing: true }, 'app_user', [], new Set(), target, new Set())
    expect(out.lines).toEqual(['⚠️ the identities the app configures were not read (the worker left no record): configured roles not checked'])
  })
})

describe('sameServer', () => {
  it('treats the loopback names, a socket directory and no host alike, and compares ports', () => {
    expect(sameServer(at('r', 'w', { host: undefined }), target)).toBe(true)
    expect(sameServer(at('r', 'w', { host: '/var/run/postgresql' }), target)).toBe(true)
    expect(sameServer(at('r', 'w', { host: 'LOCALHOST', port: undefined }), target)).toBe(true)
    expect(sameServer(at('r', 'w', { port: 6543 }), target)).toBe(false)
    expect(sameServer(at('r', 'w', { host: 'db' }), { ...target, hosts: ['db', '172.18.0.2'] })).toBe(true)
    expect(sameServer(at('r', 'w', { host: 'localhost' }), { ...target, hosts: ['db', '172.18.0.2'] })).toBe(false)
  })
})
