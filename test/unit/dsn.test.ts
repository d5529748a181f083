import { describe, expect, it } from 'vitest'
import { dsnTarget, isPostgresScheme, parseDsn, redactDsn, toPgConfig, type DsnParts } from '../../src/db/dsn.js'

/** parseDsn for a URL the test knows to be parseable. */
function parsed(url: string): DsnParts {
  const parts = parseDsn(url)
  if (!parts) throw new Error(`test setup: ${url} did not parse`)
  return parts
}

describe('parseDsn', () => {
  it('reads every component of a plain PostgreSQL URL', () => {
    expect(parseDsn('postgresql://app_user:s3cret@db.example:5433/gatelab')).toEqual({
      scheme: 'postgresql',
      prefix: undefined,
      username: 'app_user',
      password: 's3cret',
      host: 'db.example',
      port: 5433,
      database: 'gatelab',
      query: {}
    })
  })

  it.each([
    ['sqla+postgresql://u:p@h/d', 'sqla', 'postgresql'],
    ['sqlalchemy+postgresql://u:p@h/d', 'sqlalchemy', 'postgresql'],
    ['db+postgresql://u:p@h/d', 'db', 'postgresql'],
    ['SQLA+PostgreSQL://u:p@h/d', 'sqla', 'postgresql'],
    ['sqla+postgresql+psycopg2://u:p@h/d', 'sqla', 'postgresql+psycopg2'],
    ['db+postgresql+psycopg://u:p@h/d', 'db', 'postgresql+psycopg'],
    ['postgresql+psycopg2://u:p@h/d', undefined, 'postgresql+psycopg2'],
    ['redis://u:p@h/0', undefined, 'redis']
  ])('splits Celery prefix and dialect+driver of %s', (url, prefix, scheme) => {
    const parts = parsed(url)
    expect(parts.prefix).toBe(prefix)
    expect(parts.scheme).toBe(scheme)
  })

  it('percent-decodes user, password and database, including @ : / % and space', () => {
    const parts = parsed('postgresql://app%40corp:p%40ss%3Aw%2Fd%25%20x@h:5432/my%20db')
    expect(parts.username).toBe('app@corp')
    expect(parts.password).toBe('p@ss:w/d% x')
    expect(parts.database).toBe('my db')
  })

  it('keeps + in a password (SQLAlchemy unquotes passwords without unquote_plus)', () => {
    expect(parsed('postgresql://u:p+w@h/d').password).toBe('p+w')
  })

  it('reads a password with unencoded / and ? the way SQLAlchemy does', () => {
    const parts = parsed('postgresql://app_user:pa/ss?word@127.0.0.1:5432/gatelab')
    expect(parts).toMatchObject({ username: 'app_user', password: 'pa/ss?word', host: '127.0.0.1', port: 5432, database: 'gatelab' })
    expect(parts.query).toEqual({})
  })

  it('splits an unencoded @ in a password at the first @, as SQLAlchemy does', () => {
    const parts = parsed('postgresql://app_user:p@ss@127.0.0.1:5432/gatelab')
    expect(parts.password).toBe('p')
    expect(parts.host).toBe('ss@127.0.0.1')
  })

  it('keeps a password that is not valid percent-encoding as given', () => {
    expect(parsed('postgresql://u:50%off@h/d').password).toBe('50%off')
  })

  // SQLAlchemy decodes with urllib.parse.unquote: valid escapes decoded, invalid ones left alone
  // ('p%zz%40' -> 'p%zz@'), so the action's own connection uses the worker's password.
  it('decodes the valid escapes of a password that also has an invalid one, like unquote', () => {
    expect(parsed('postgresql://u:p%zz%40@h/d').password).toBe('p%zz@')
  })

  it('reads an empty password as empty, not absent', () => {
    const parts = parsed('postgresql://u:@h/d')
    expect(parts.username).toBe('u')
    expect(parts.password).toBe('')
  })

  it('reads a bracketed IPv6 host and its port', () => {
    const parts = parsed('postgresql://app_user:secret@[::1]:5432/gatelab')
    expect(parts.host).toBe('::1')
    expect(parts.port).toBe(5432)
    expect(parts.database).toBe('gatelab')
  })

  it('leaves the port out when it is not a number', () => {
    const parts = parsed('postgresql://u:pw@h:abc/d')
    expect(parts.host).toBe('h')
    expect(parts.port).toBeUndefined()
  })

  it('decodes the query string, + as space, last value of a repeated key', () => {
    const parts = parsed('postgresql://u@h/d?sslmode=require&options=-c%20search_path%3Dtenant&application_name=a+b&my+key=v&flag&x=1&x=2')
    expect(parts.query).toEqual({
      sslmode: 'require',
      options: '-c search_path=tenant',
      application_name: 'a b',
      'my key': 'v',
      flag: '',
      x: '2'
    })
  })

  it('reads URLs without credentials, host or port', () => {
    expect(parseDsn('postgresql://localhost/gatelab')).toMatchObject({
      username: undefined,
      password: undefined,
      host: 'localhost',
      port: undefined,
      database: 'gatelab'
    })
    expect(parseDsn('postgresql:///gatelab?host=/var/run/postgresql')).toMatchObject({
      host: undefined,
      database: 'gatelab',
      query: { host: '/var/run/postgresql' }
    })
    expect(parseDsn('sqla+sqlite:///celery.db')).toMatchObject({ prefix: 'sqla', scheme: 'sqlite', host: undefined, database: 'celery.db' })
    expect(parseDsn('rpc://')).toMatchObject({ scheme: 'rpc', host: undefined, database: undefined })
  })

  it('ignores surrounding whitespace', () => {
    expect(parsed('  postgresql://u:p@h/d\n').database).toBe('d')
  })

  it.each(['', 'not a url', 'postgresql:app_user:pw@h/d', '://u:p@h/d', 'app_user:s3cret@db:5432/gatelab', 'post gres://h/d'])(
    'returns undefined for %j',
    (garbage) => {
      expect(parseDsn(garbage)).toBeUndefined()
    }
  )
})

describe('redactDsn', () => {
  const leaks = (shown: string, ...secrets: string[]): string[] => secrets.filter((s) => shown.includes(s))

  it('replaces the credentials and keeps scheme, host, port and database', () => {
    expect(redactDsn('sqla+postgresql+psycopg2://app_user:s3cret@127.0.0.1:5432/gatelab')).toBe('sqla+postgresql+psycopg2://***@127.0.0.1:5432/gatelab')
  })

  it('hides a user that has no password', () => {
    expect(redactDsn('db+postgresql://app_user@h/d')).toBe('db+postgresql://***@h/d')
  })

  it('hides an empty password and a password-only URL', () => {
    expect(redactDsn('postgresql://app_user:@h/d')).toBe('postgresql://***@h/d')
    expect(redactDsn('redis://:s3cret@redis:6379/0')).toBe('redis://***@redis:6379/0')
  })

  it('shows a URL without credentials unchanged (less its query)', () => {
    expect(redactDsn('postgresql://localhost/gatelab')).toBe('postgresql://localhost/gatelab')
    expect(redactDsn('sqla+sqlite:///celery.db')).toBe('sqla+sqlite:///celery.db')
  })

  it('drops the query string, which can carry a password', () => {
    const shown = redactDsn('postgresql://h/d?user=app_user&password=s3cret&sslmode=require')
    expect(shown).toBe('postgresql://h/d')
  })

  it('hides percent-encoded credentials in both forms', () => {
    const shown = redactDsn('postgresql://app%40corp:p%40ss%3Aw%2Fd@h:5432/d')
    expect(shown).toBe('postgresql://***@h:5432/d')
  })

  it('hides everything when an unencoded ? in the password cannot be told from a query', () => {
    const shown = redactDsn('postgresql://app_user:pa/ss?word@127.0.0.1:5432/gatelab')
    expect(shown).toBe('postgresql://***')
    expect(leaks(shown, 'pa', 'ss', 'word', 'app_user')).toEqual([])
  })

  it('treats everything up to the last @ as credentials when the password has an unencoded @', () => {
    const shown = redactDsn('postgresql://app_user:p@ss@127.0.0.1:5432/gatelab')
    expect(shown).toBe('postgresql://***@127.0.0.1:5432/gatelab')
    expect(leaks(shown, 'ss', 'app_user')).toEqual([])
  })

  // A URL parser reads `p@ss:word@host` as host `ss`, port `word@127.0.0.1:5432`: no piece of it
  // may be shown.
  it('does not leak any part of a password with an unencoded @ followed by a colon', () => {
    const shown = redactDsn('postgresql://app_user:p@ss:word@127.0.0.1:5432/gatelab')
    expect(leaks(shown, 'ss', 'word')).toEqual([])
  })

  // A URL parser reads `p@ss/word@host/db` as host `ss`, database `word@127.0.0.1:5432/gatelab`.
  it('does not leak any part of a password with an unencoded @ followed by a slash', () => {
    const shown = redactDsn('postgresql://app_user:p@ss/word@127.0.0.1:5432/gatelab')
    expect(leaks(shown, 'ss', 'word')).toEqual([])
  })

  it('hides input without scheme:// whole', () => {
    expect(redactDsn('not a url with s3cret')).toBe('***')
    expect(redactDsn('')).toBe('***')
    expect(redactDsn('postgresql:app_user:s3cret@h/d')).toBe('***')
  })

  // A DSN that lost its scheme must not show its user name as a "scheme".
  it('does not show the user name of a DSN without a scheme', () => {
    expect(redactDsn('app_user:s3cret@db:5432/gatelab')).not.toContain('app_user')
  })

  it('keeps the brackets of an IPv6 host', () => {
    expect(redactDsn('postgresql://app_user:secret@[::1]:5432/gatelab')).toBe('postgresql://***@[::1]:5432/gatelab')
  })
})

describe('isPostgresScheme', () => {
  it.each([
    ['postgresql', true],
    ['postgresql+psycopg2', true],
    ['postgresql+psycopg', true],
    ['postgresql+asyncpg', true],
    ['postgres', false],
    ['postgresqlx', false],
    ['sqla+postgresql', false],
    ['mysql', false],
    ['', false]
  ])('%j -> %s', (scheme, expected) => {
    expect(isPostgresScheme(scheme)).toBe(expected)
  })
})

describe('dsnTarget', () => {
  it('is host:port/database without credentials or prefix', () => {
    expect(dsnTarget(parsed('sqla+postgresql://app_user:s3cret@10.0.0.5:6432/gatelab'))).toBe('10.0.0.5:6432/gatelab')
  })

  it('fills the libpq defaults for a missing host and port', () => {
    expect(dsnTarget(parsed('postgresql:///gatelab'))).toBe('localhost:5432/gatelab')
    expect(dsnTarget(parsed('postgresql://db'))).toBe('db:5432/')
  })

  it('is the same for broker and backend URLs that point at the same database as different users', () => {
    const broker = parsed('sqla+postgresql://a:x@h:5432/d')
    const backend = parsed('db+postgresql+psycopg2://b:y@h:5432/d')
    expect(dsnTarget(broker)).toBe(dsnTarget(backend))
    expect(dsnTarget(broker)).not.toBe(dsnTarget(parsed('db+postgresql://a:x@h:5432/other')))
  })
})

describe('toPgConfig', () => {
  it.each([
    [
      'the URL components',
      'sqla+postgresql+psycopg2://app%40corp:p%40ss@127.0.0.1:5433/gatelab',
      { user: 'app@corp', password: 'p@ss', host: '127.0.0.1', port: 5433, database: 'gatelab' }
    ],
    [
      'the query of a unix-socket URL (host, port, user, password, dbname)',
      'postgresql:///?host=/var/run/postgresql&port=5433&user=app_user&password=s3cret&dbname=gatelab',
      { user: 'app_user', password: 's3cret', host: '/var/run/postgresql', port: 5433, database: 'gatelab' }
    ]
  ])('maps %s to node-postgres settings', (_what, url, config) => {
    expect(toPgConfig(parsed(url))).toEqual(config)
  })

  it('prefers the URL components over the query', () => {
    const config = toPgConfig(parsed('postgresql://u:p@h:1/d?host=/tmp&port=2&user=q&dbname=x'))
    expect(config).toMatchObject({ user: 'u', password: 'p', host: 'h', port: 1, database: 'd' })
  })

  it('passes libpq options through', () => {
    expect(toPgConfig(parsed('postgresql://h/d?options=-c%20search_path%3Dtenant')).options).toBe('-c search_path=tenant')
  })

  it.each([
    ['require', { rejectUnauthorized: false }],
    ['no-verify', { rejectUnauthorized: false }],
    ['verify-ca', { rejectUnauthorized: true }],
    ['verify-full', { rejectUnauthorized: true }]
  ])('maps sslmode=%s to ssl %j', (sslmode, ssl) => {
    expect(toPgConfig(parsed(`postgresql://h/d?sslmode=${sslmode}`)).ssl).toEqual(ssl)
  })

  it.each(['disable', 'allow', 'prefer', undefined])('sets no ssl for sslmode=%s', (sslmode) => {
    const url = sslmode ? `postgresql://h/d?sslmode=${sslmode}` : 'postgresql://h/d'
    const config = toPgConfig(parsed(url))
    expect(config.ssl).toBeUndefined()
    expect('ssl' in config).toBe(false)
  })
})
