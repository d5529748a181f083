// configured.py's DSN detection and the file it writes, run by the Celery 5.7 environment's real
// Python: DSN-shaped values (URLs of every PostgreSQL spelling, libpq key=value strings) become
// role/host/port/database, and no password — plain or percent-encoded — ever reaches the file.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { pythonFor } from '../support/action.js'

const MODULE = fileURLToPath(new URL('../../src/celery/configured.py', import.meta.url))

/** Runs `code` with configured.py loaded as `m`; prints what the code prints. */
async function python(code: string, env: Record<string, string> = {}): Promise<string> {
  const prelude = [
    'import importlib.util, json, sys',
    `spec = importlib.util.spec_from_file_location('cfg_configured', ${JSON.stringify(MODULE)})`,
    'm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)'
  ].join('\n')
  const run = await execa(pythonFor('5.7'), ['-c', `${prelude}\n${code}`], { env: { PATH: process.env.PATH ?? '', ...env }, extendEnv: false })
  return run.stdout
}

describe('configured.py parse_dsn', () => {
  it('reads the role, server and database of every PostgreSQL DSN spelling, never the password', async () => {
    const values = [
      'postgres://bob:pw%40x@db.example:6543/app?application_name=reports',
      'sqla+postgresql+psycopg://alice:sec@127.0.0.1:5432/app',
      'db+postgresql://carol:pw@[::1]:5433/d',
      'pgmq://dave:pw@h/q',
      'postgresql:///db?host=/var/run/postgresql&user=erin',
      "host=localhost user='fr ank' password='p w\\'x' dbname=app",
      'postgresql://h/db',
      'redis://u:p@h/0',
      'Hello user=bob, welcome',
      'dbname=a user=b password=c d'
    ]
    const printed = await python("import os\nprint(json.dumps([m.parse_dsn(v) for v in json.loads(os.environ['VALUES'])]))", {
      PGUSER: 'pg_default',
      VALUES: JSON.stringify(values)
    })
    const out = JSON.parse(printed) as Array<Record<string, unknown> | null>
    expect(out.map((o) => o && [o.role, o.role_from, o.host, o.port, o.dbname])).toEqual([
      ['bob', 'dsn', 'db.example', 6543, 'app'],
      ['alice', 'dsn', '127.0.0.1', 5432, 'app'],
      ['carol', 'dsn', '::1', 5433, 'd'],
      ['dave', 'dsn', 'h', null, 'q'],
      ['erin', 'dsn', '/var/run/postgresql', null, 'db'],
      ['fr ank', 'dsn', 'localhost', null, 'app'],
      ['pg_default', 'PGUSER', 'h', null, 'db'],
      null,
      null,
      null
    ])
    expect(out[0]?.application_name).toBe('reports')
    expect(JSON.stringify(out)).not.toMatch(/pw|sec\b|p w/)
  })

  it('reads a libpq string without user= (libpq then connects as PGUSER) and a service string', async () => {
    // A job-wide PGUSER=postgres with DATABASE_DSN="host=db dbname=app" is a superuser DSN: not
    // seeing it was a silent miss in the configured source.
    const values = ['host=db dbname=app password=Secret1', 'service=reports', 'mode=fast host=x', 'Hello dbname=x, welcome']
    const printed = await python("import os\nprint(json.dumps([m.parse_dsn(v) for v in json.loads(os.environ['VALUES'])]))", {
      PGUSER: 'postgres',
      VALUES: JSON.stringify(values)
    })
    const out = JSON.parse(printed) as Array<Record<string, unknown> | null>
    expect(out.map((o) => o && [o.role, o.role_from, o.host, o.dbname, o.service])).toEqual([
      ['postgres', 'PGUSER', 'db', 'app', null],
      [null, 'unspecified', null, null, 'reports'],
      null,
      null
    ])
    expect(printed).not.toContain('Secret1')
  })

  it("never writes a part of an unencoded password holding '/', '?', '#' or '@' (SQLAlchemy takes them)", async () => {
    // SQLAlchemy's URL password is `[^@]*`: `p/ss` is one it connects with; urlsplit would cut the
    // netloc at the '/' and put `user:pa` into host and `ss@host/db` into dbname.
    const values = [
      'postgresql+psycopg2://alice:Pa/Ss1@db.example:5432/app',
      'postgresql://bob:Pa?Ss2@db.example/app',
      'postgresql://carol:Pa#Ss3@db.example/app',
      'postgresql://dave:Pa@Ss4@db.example/app',
      'postgresql://erin@db.example/app?application_name=a@b',
      // quote(user + ':' + password): the whole userinfo encoded, ':' as %3A.
      'postgresql://frank%3APa%40Ss5@db.example/app'
    ]
    const printed = await python("import os\nprint(json.dumps([m.parse_dsn(v) for v in json.loads(os.environ['VALUES'])]))", {
      VALUES: JSON.stringify(values)
    })
    const out = JSON.parse(printed) as Array<Record<string, unknown> | null>
    expect(out.map((o) => o && [o.role, o.host, o.dbname])).toEqual([
      ['alice', 'db.example', 'app'],
      ['bob', 'db.example', 'app'],
      ['carol', 'db.example', 'app'],
      ['dave', 'db.example', 'app'],
      ['erin', 'db.example', 'app'],
      ['frank', 'db.example', 'app']
    ])
    expect(JSON.stringify(out)).not.toMatch(/Pa|Ss\d/)
  })
})

describe('configured.py write', () => {
  it("writes the env's, the conf's and the engines' identities, bounded, with no password", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-write-'))
    const file = path.join(dir, 'configured.jsonl')
    const password = 'Sup3r-s3cret@:/%'
    const encoded = encodeURIComponent(password)
    const code = [
      'class Conf(dict):',
      '    pass',
      'class App:',
      `    conf = Conf(broker_url='sqla+postgresql://app_user:${encoded}@127.0.0.1/app', database_engine_options={'x': ['postgresql://nested:${encoded}@h/d']}, result_backend_transport_options={'postgresql://k:${encoded}@h/d': 'postgresql://keyed@h/d'})`,
      'from sqlalchemy import create_engine',
      `ce = importlib.util.spec_from_file_location('cfg_connections', ${JSON.stringify(MODULE.replace('configured.py', 'connections.py'))})`,
      'c = importlib.util.module_from_spec(ce); ce.loader.exec_module(c)',
      `created = c.install(${JSON.stringify(path.join(dir, 'connections.jsonl'))})`,
      `engine = create_engine('postgresql+psycopg://engine_role:${encoded}@127.0.0.1:5432/app')`,
      // quote(user + ':' + password): SQLAlchemy decodes the username to `whole:<password>`.
      `whole = create_engine('postgresql+psycopg://whole%3A${encoded}@127.0.0.1:5432/app')`,
      `m.write(App(), ${JSON.stringify(file)}, created)`
    ].join('\n')
    await python(code, {
      APP_DATA_URL: `postgresql://postgres:${encoded}@127.0.0.1:5432/app`,
      LIBPQ_DSN: `host=db user=kv password='${password}'`,
      // The action's own variables are not the app's configuration.
      CELERY_FOUNDATION_GATES_BOOT: `postgresql://own:${encoded}@h/d`
    })
    const text = readFileSync(file, 'utf8')
    for (const secret of [password, encoded, 'Sup3r']) expect(text).not.toContain(secret)
    const entries = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { role: string; where: string })
    expect(entries.map((e) => `${e.role} @ ${e.where}`)).toEqual([
      expect.stringMatching(/^engine_role @ engine created at __main__:\d+$/),
      expect.stringMatching(/^whole @ engine created at __main__:\d+$/),
      'app_user @ celery conf broker_url',
      'nested @ celery conf database_engine_options[x][0]',
      // A dict key that is not a plain name (here a DSN with its password) is not written.
      'keyed @ celery conf result_backend_transport_options[[…]]',
      'postgres @ env APP_DATA_URL',
      'kv @ env LIBPQ_DSN'
    ])
  })

  it('reads the DSNs of JSON in an environment variable (DATABASES_JSON), never the password', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-json-'))
    const file = path.join(dir, 'configured.jsonl')
    await python(`m.write(type('App', (), {'conf': {}})(), ${JSON.stringify(file)})`, {
      DATABASES_JSON: JSON.stringify({ default: 'postgresql://postgres:Pw9x@db/app', replica: ['host=r user=ro password=Pw9x'] }),
      NOT_JSON: '{ not json postgresql://nope:Pw9x@h/d'
    })
    const text = readFileSync(file, 'utf8')
    expect(text).not.toContain('Pw9x')
    const entries = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { role: string; where: string })
    expect(entries.map((e) => `${e.role} @ ${e.where}`)).toEqual(['postgres @ env DATABASES_JSON[default]', 'ro @ env DATABASES_JSON[replica][0]'])
  })
})
