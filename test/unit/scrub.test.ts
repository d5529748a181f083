import { describe, expect, it } from 'vitest'
import { scrubCredentials, scrubStrings } from '../../src/util/scrub.js'

// Lines as the libraries print them (the password is always `s3cr3t-PW`).
const PW = 's3cr3t-PW'

describe('scrubCredentials on real-world lines', () => {
  const cases: Array<[string, string, string]> = [
    [
      "pydantic's ValidationError quoting the DSN",
      `  Input should be a valid URL, empty host [type=url_parsing, input_value='postgresql://app:${PW}@/tenants', input_type=str]`,
      "  Input should be a valid URL, empty host [type=url_parsing, input_value='postgresql://app:***@/tenants', input_type=str]"
    ],
    [
      'kombu failing to connect to its SQLAlchemy broker',
      `[2026-01-01 00:00:00,000: ERROR/MainProcess] consumer: Cannot connect to sqla+postgresql://app:${PW}@db:5432/app: (psycopg.OperationalError) connection failed`,
      '[2026-01-01 00:00:00,000: ERROR/MainProcess] consumer: Cannot connect to sqla+postgresql://app:***@db:5432/app: (psycopg.OperationalError) connection failed'
    ],
    [
      "Celery's result backend URL",
      `ValueError: bad backend db+postgresql+psycopg://app:${PW}@db/app`,
      'ValueError: bad backend db+postgresql+psycopg://app:***@db/app'
    ],
    [
      'a pytest frame with a libpq keyword string (psycopg conninfo)',
      `conninfo = 'host=127.0.0.1 port=5433 user=app password=${PW} dbname=app'`,
      "conninfo = 'host=127.0.0.1 port=5433 user=app password=*** dbname=app'"
    ],
    ['a quoted keyword value', `dsn = "host=db password='${PW} x' user=app"`, `dsn = "host=db password='***' user=app"`],
    ['an environment dump', `PGPASSWORD=${PW} psql -h db`, 'PGPASSWORD=*** psql -h db'],
    ["a frame's keyword argument", `connect(host='db', password='${PW}', port=5432)`, "connect(host='db', password='***', port=5432)"],
    ['a dict repr', `{'host': 'db', 'password': '${PW}', 'port': 5432}`, "{'host': 'db', 'password': '***', 'port': 5432}"],
    [
      'a JSON log record',
      `{"message": "settings", "db_password": "${PW}", "api_token": "${PW}"}`,
      '{"message": "settings", "db_password": "***", "api_token": "***"}'
    ],
    [
      'a password in a query string',
      `postgresql://db/app?user=app&password=${PW}&sslmode=require`,
      'postgresql://db/app?user=app&password=***&sslmode=require'
    ],
    ['a password containing an unencoded @', `postgresql://app:p@ss${PW}@db/app`, 'postgresql://app:***@db/app'],
    ['a URL with an empty user (Redis)', `redis://:${PW}@cache:6379/0`, 'redis://:***@cache:6379/0'],
    ['a YAML-ish line', `  Password: ${PW}`, '  Password: ***'],
    ['an API key', `AWS_SECRET_ACCESS_KEY=${PW} SECRET_KEY="${PW}"`, 'AWS_SECRET_ACCESS_KEY=*** SECRET_KEY="***"']
  ]
  for (const [name, line, want] of cases) {
    it(name, () => {
      const got = scrubCredentials(line)
      expect(got).toBe(want)
      expect(got).not.toContain(PW)
    })
  }

  const untouched: Array<[string, string]> = [
    [
      "SQLAlchemy's OperationalError (the cause the runtime gate and the taxonomy read)",
      'sqlalchemy.exc.OperationalError: (psycopg.OperationalError) connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "app_user"'
    ],
    [
      "Celery's banner (its password already hidden; the user is compared by broker-config)",
      '.> transport:   sqla+postgresql://app_user:**@localhost:5432/app'
    ],
    ['our own input hint', 'expected a PostgreSQL DSN like postgresql://user:password@host:5432/db, got ***'],
    ['a DSN already redacted', 'transport: `sqla+postgresql://***@localhost:5432/app`'],
    ['a URL without credentials', 'see https://sqlalche.me/e/20/e3q8 and http://localhost:8080/path'],
    ['prose about tokens', 'github-token: the token cannot comment on this pull request'],
    ['a queue line', '.> celery           exchange=celery(direct) key=celery']
  ]
  for (const [name, line] of untouched) {
    it(`leaves ${name} as it is`, () => expect(scrubCredentials(line)).toBe(line))
  }
})

describe('scrubStrings', () => {
  it('cleans every string of a nested value in place and keeps the rest', () => {
    const report = { gates: [{ id: 'import', evidence: `postgresql://a:${PW}@h/d`, ms: 3, ok: true }], tail: [`password=${PW}`], none: null }
    const same = scrubStrings(report, scrubCredentials)
    expect(same).toBe(report)
    expect(report).toEqual({ gates: [{ id: 'import', evidence: 'postgresql://a:***@h/d', ms: 3, ok: true }], tail: ['password=***'], none: null })
  })

  it('leaves serialized JSON valid when values were scrubbed before serializing', () => {
    const value = { a: `password="${PW}", b@c`, b: `http://h:1/x", "y@z` }
    const json = JSON.stringify(scrubStrings(value, scrubCredentials))
    expect(() => JSON.parse(json)).not.toThrow()
    expect(json).not.toContain(PW)
  })
})
