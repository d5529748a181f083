// Which environment variables the worker's code read (envreads.py, run here by the Celery 5.7
// environment's real Python, forks included), the record's reader (env-reads.ts: untrusted input,
// bounded and schema-checked), and what rls-role makes of it (rls-configured.ts): a DSN-shaped
// variable the app read is judged; one it inherited but never read is only noted.
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import type { ConfiguredIdentity, ConfiguredRecord } from '../../src/celery/configured.js'
import { ENV_READS_FILE, complete, envNameOf, parseEnvReads, readEnvReads, type EnvReads } from '../../src/celery/env-reads.js'
import { configuredFindings, configuredRoles, splitByReads } from '../../src/gates/rls-configured.js'
import { pythonFor } from '../support/action.js'

const MODULE = fileURLToPath(new URL('../../src/celery/envreads.py', import.meta.url))
const keep = (t: string): string => t

/** Runs `code` after envreads.py (loaded under the action's private name) is installed on `file`. */
async function python(file: string, code: string, env: Record<string, string>): Promise<void> {
  const prelude = [
    'import importlib.util, os, sys',
    `spec = importlib.util.spec_from_file_location('celery_foundation_gates_envreads', ${JSON.stringify(MODULE)})`,
    'm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)',
    `m.install(${JSON.stringify(file)})`
  ].join('\n')
  await execa(pythonFor('5.7'), ['-c', `${prelude}\n${code}`], {
    env: { PATH: process.env.PATH ?? '', ...env },
    extendEnv: false
  })
}

describe('envreads.py', () => {
  it('records the names read by every spelling, in forked children too, never a value nor its own reads', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'envreads-')), ENV_READS_FILE)
    const secret = 'postgresql://postgres:s3cret-pw@h/db'
    const code = [
      "os.environ.get('BY_GET'); os.getenv('BY_GETENV'); os.environ['BY_ITEM']; 'BY_IN' in os.environ; os.getenvb(b'BY_BYTES')",
      "os.environ.get('NOT_SET'); list(os.environ); repr(os.environ)",
      // The action's own modules (configured.py reads every value) are not the app.
      "exec(\"import os\\nos.environ['OWN_READ']\", {'__name__': 'celery_foundation_gates_configured'})",
      'pid = os.fork()',
      "if pid == 0:\n    os.environ.get('CHILD_READ'); os._exit(0)",
      'os.waitpid(pid, 0)'
    ].join('\n')
    const vars = ['BY_GET', 'BY_GETENV', 'BY_ITEM', 'BY_IN', 'BY_BYTES', 'OWN_READ', 'CHILD_READ', 'NEVER_READ']
    await python(file, code, Object.fromEntries(vars.map((v) => [v, secret])))
    const text = readFileSync(file, 'utf8')
    const entries = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { name: string; by: string; pid: number })
    expect(entries.map((e) => e.name)).toEqual(['BY_GET', 'BY_GETENV', 'BY_ITEM', 'BY_IN', 'BY_BYTES', 'CHILD_READ'])
    expect(entries[0]?.by).toMatch(/^__main__:\d+$/)
    expect(new Set(entries.map((e) => e.pid)).size).toBe(2)
    expect(text).not.toContain('s3cret')
  })

  it('counts a copy of the whole environment as reading every variable', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'envreads-')), ENV_READS_FILE)
    await python(file, 'env = os.environ.copy()', { COPIED_A: 'a', COPIED_B: 'b' })
    const names = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { name: string }).name)
    expect(names).toEqual(expect.arrayContaining(['COPIED_A', 'COPIED_B', 'PATH']))
  })
})

describe('envreads.py bound', () => {
  it('writes at most its bound of names per process, then says it stopped', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'envreads-')), ENV_READS_FILE)
    const names = Array.from({ length: 510 }, (_, i) => `MANY_${i}`)
    await python(file, 'for n in sorted(os.environ):\n    os.environ.get(n)', Object.fromEntries(names.map((n) => [n, 'x'])))
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean)
    expect(lines).toHaveLength(501)
    expect(JSON.parse(lines.at(-1) ?? '')).toEqual({ overflow: true, pid: expect.any(Number) })
    const parsed = parseEnvReads(lines.join('\n'), keep)
    expect(parsed.read.size).toBe(500)
    expect(complete({ ...parsed, truncated: false, missing: false })).toBe(false)
  })
})

describe('parseEnvReads / readEnvReads', () => {
  it('keeps plain names with their first reader; anything else is rejected', () => {
    const body = [
      JSON.stringify({ name: 'A_URL', by: 'app.settings:3', pid: 1 }),
      JSON.stringify({ name: 'A_URL', by: 'app.other:9', pid: 2 }),
      JSON.stringify({ name: 'B', by: 'x\u0007y', pid: 1 }),
      JSON.stringify({ name: 'postgresql://u:p@h/d', by: 'x', pid: 1 }),
      'not json'
    ].join('\n')
    const { read, rejected } = parseEnvReads(body, keep)
    expect([...read]).toEqual([
      ['A_URL', 'app.settings:3'],
      ['B', 'x?y']
    ])
    expect(rejected).toBe(2)
  })

  it('reads the record beside the connection record, not through a symlink; a missing one is incomplete', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'envreads-'))
    const connections = path.join(dir, 'connections.jsonl')
    expect(complete(readEnvReads(connections, keep))).toBe(false)
    const target = path.join(dir, 'elsewhere.jsonl')
    writeFileSync(target, JSON.stringify({ name: 'X', by: 'm:1', pid: 1 }) + '\n')
    symlinkSync(target, path.join(dir, ENV_READS_FILE))
    const viaLink = readEnvReads(connections, keep)
    expect(viaLink.read.size).toBe(0)
    expect(complete(viaLink)).toBe(false)
  })

  it('takes the variable of an `env NAME` entry only', () => {
    expect(envNameOf('env REPORTS_URL')).toBe('REPORTS_URL')
    expect(envNameOf('env […]')).toBeUndefined()
    // JSON in a variable: configured.py names the key under the variable.
    expect(envNameOf('env DATABASES_JSON[default]')).toBe('DATABASES_JSON')
    expect(envNameOf("DATABASES['default']")).toBeUndefined()
  })
})

const ident = (role: string, where: string): ConfiguredIdentity => ({ role, roleFrom: 'dsn', where, host: '127.0.0.1', port: 5432, dbname: 'app' })
const reads = (names: Record<string, string>, more: Partial<EnvReads> = {}): EnvReads => ({
  read: new Map(Object.entries(names)),
  rejected: 0,
  truncated: false,
  missing: false,
  overflow: false,
  ...more
})
const recordOf = (identities: ConfiguredIdentity[], envReads?: EnvReads): ConfiguredRecord => ({
  identities,
  rejected: 0,
  truncated: false,
  missing: false,
  envReads
})
const target = { database: 'app', port: 5432, hosts: ['127.0.0.1'] }
const findings = (record: ConfiguredRecord) => configuredFindings(record, 'app_user', [], new Set(['app_user']), target, new Set(['postgres', 'app_user']))

describe('rls-role on variables read or not', () => {
  const identities = [ident('app_user', 'env DATABASE_URL'), ident('postgres', 'env MIGRATIONS_DATABASE_URL'), ident('postgres', "DATABASES['reports']")]

  it('judges a variable the app read (saying by whom), and only notes one it never read', () => {
    const record = recordOf(identities, reads({ DATABASE_URL: 'app.factory:80' }))
    expect(splitByReads(record).unread.map(([n]) => n)).toEqual(['MIGRATIONS_DATABASE_URL'])
    const f = findings(record)
    expect(f.problems).toHaveLength(1)
    expect(f.problems[0]).toMatch(/^postgres is configured at DATABASES\['reports'\] \(configured, not used during this run\)/)
    expect(f.configuredAt.get('postgres')).toEqual(["DATABASES['reports']"])
    expect(f.lines).toContain(
      "⚠️ MIGRATIONS_DATABASE_URL holds a DSN for postgres that this worker inherits but never read during the run: pull-request code could still use it — set it only in the env: of the steps that need it, not the job's or this step's (the worker inherits both; worker-env cannot withhold a variable, it only passes on ones the action withholds)"
    )
    expect(f.lines[0]).toContain('app_user at env DATABASE_URL (read by app.factory:80)')
  })

  it('does not look up a role configured only by unread variables, and lists an allowed one as never read', () => {
    const record = recordOf([ident('app_user', 'env SPARE_URL'), ident('postgres', 'env MIGRATIONS_DATABASE_URL')], reads({}))
    expect(configuredRoles(record)).toEqual([])
    const f = findings(record)
    expect(f.problems).toEqual([])
    expect(f.lines[0]).toContain('app_user at env SPARE_URL (inherited, never read)')
  })

  it('judges every variable as read when the record cannot tell, and says why', () => {
    const incomplete = [{ missing: true }, { truncated: true }, { rejected: 1 }, { overflow: true }].map((more) => reads({}, more))
    for (const envReads of [undefined, ...incomplete]) {
      const f = findings(recordOf(identities, envReads))
      expect(f.problems.some((p) => p.startsWith('postgres is configured at env MIGRATIONS_DATABASE_URL'))).toBe(true)
      expect(f.lines.some((l) => l.startsWith('⚠️ which environment variables the app read is not known ('))).toBe(true)
    }
  })

  it('names several unread variables in one note', () => {
    const record = recordOf([ident('postgres', 'env A_URL'), ident('owner', 'env B_URL')], reads({}))
    expect(findings(record).lines.at(-1)).toMatch(
      /^⚠️ A_URL \(postgres\), B_URL \(owner\) hold DSNs that this worker inherits but never read during the run: .* use them — set them only/
    )
  })
})
