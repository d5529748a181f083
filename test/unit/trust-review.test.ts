// Forms of a credential found by the adversarial review of the trust work: each leaked before.
import { describe, expect, it } from 'vitest'
import { SecretRegistry } from '../../src/secrets.js'
import { scrubCredentials } from '../../src/util/scrub.js'

const PW = 'Un5egistered-pw'

describe('scrubCredentials: URLs written in other encodings', () => {
  it('cuts the password of a URL in a JSON record with escaped slashes (ujson, PHP, Java loggers)', () => {
    const line = `{"event": "connect", "dsn": "postgresql:\\/\\/app:${PW}@db:5432\\/app"}`
    expect(scrubCredentials(line)).toBe('{"event": "connect", "dsn": "postgresql:\\/\\/app:***@db:5432\\/app"}')
  })

  it('cuts the password of a percent-encoded URL (a DSN passed as a query parameter)', () => {
    const line = `GET /health?next=postgresql%3A%2F%2Fapp%3A${PW}%40db%3A5432%2Fapp HTTP/1.1`
    expect(scrubCredentials(line)).toBe('GET /health?next=postgresql%3A%2F%2Fapp%3A***%40db%3A5432%2Fapp HTTP/1.1')
    expect(scrubCredentials(line.toLowerCase())).not.toContain(PW.toLowerCase())
  })

  it('cuts a bytes repr of a password key (`b\'password\': b\'…\'`)', () => {
    expect(scrubCredentials(`{b'password': b'${PW}'}`)).not.toContain(PW)
  })
})

describe('SecretRegistry: the forms Python and JSON give a registered password', () => {
  const password = 'pw-1a2b@:/%!'
  const registry = new SecretRegistry()
  registry.add(password)
  const forms: Array<[string, string]> = [
    ['urllib.parse.quote (keeps /)', 'pw-1a2b%40%3A/%25%21'],
    ["urllib.parse.quote_plus (SQLAlchemy 2.1's URL too)", 'pw-1a2b%40%3A%2F%25%21'],
    ['lower-case percent-encoding', 'pw-1a2b%40%3a%2f%25!'],
    ['JSON with escaped slashes', 'pw-1a2b@:\\/%!']
  ]
  for (const [name, form] of forms) {
    it(`hides the ${name} form`, () => {
      expect(registry.redact(`x ${form} y`)).toBe('x *** y')
    })
  }
})
