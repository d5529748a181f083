import { describe, expect, it } from 'vitest'
import { SecretRegistry, registerEnvironmentSecrets, registerSecretsInText } from '../../src/secrets.js'

/** A registry whose mask callback records every form it is given. */
function recordingRegistry(): { registry: SecretRegistry; masked: string[] } {
  const masked: string[] = []
  return { registry: new SecretRegistry((secret) => masked.push(secret)), masked }
}

describe('SecretRegistry.add', () => {
  it('masks the raw, percent-encoded and quote_plus forms of a password', () => {
    const { registry, masked } = recordingRegistry()
    registry.add('p@ss w/rd')
    // Then urllib's quote (keeps `/`), lower-case hex, and the JSON-escaped forms (`\/`).
    expect(masked).toEqual([
      'p@ss w/rd',
      'p%40ss%20w%2Frd',
      'p%40ss+w%2Frd',
      'p%40ss%20w/rd',
      'p%40ss%20w%2frd',
      'p%40ss+w%2frd',
      'p@ss w\\/rd',
      'p%40ss%20w\\/rd'
    ])
    expect(registry.size).toBe(8)
  })

  it('also masks the decoded form of a secret given percent-encoded', () => {
    const { registry, masked } = recordingRegistry()
    registry.add('p%40ss')
    expect(masked).toContain('p%40ss')
    expect(masked).toContain('p@ss')
    expect(masked).toContain('p%2540ss')
  })

  it('redacts every form wherever it appears', () => {
    const { registry } = recordingRegistry()
    registry.add('p@ss w/rd')
    const text = ['raw=p@ss w/rd', 'url=postgresql://u:p%40ss%20w%2Frd@h/d', 'python=postgresql://u:p%40ss+w%2Frd@h/d'].join('\n')
    expect(registry.redact(text)).toBe(['raw=***', 'url=postgresql://u:***@h/d', 'python=postgresql://u:***@h/d'].join('\n'))
  })

  it('registers a form only once and calls mask only for new forms', () => {
    const { registry, masked } = recordingRegistry()
    registry.add('s3cret')
    registry.add('s3cret')
    registry.add('s3cret')
    expect(masked).toEqual(['s3cret'])
    expect(registry.size).toBe(1)
  })

  it('ignores undefined, null and empty secrets', () => {
    const { registry, masked } = recordingRegistry()
    registry.add(undefined)
    registry.add(null)
    registry.add('')
    expect(masked).toEqual([])
    expect(registry.redact('nothing to hide')).toBe('nothing to hide')
  })

  it('does not register a 1-character secret alone', () => {
    const { registry, masked } = recordingRegistry()
    registry.add('x')
    expect(masked).toEqual([])
    expect(registry.size).toBe(0)
    expect(registry.redact('x marks the spot')).toBe('x marks the spot')
  })

  it('keeps a secret that does not decode (a lone %) in its raw and encoded forms', () => {
    const { registry, masked } = recordingRegistry()
    registry.add('100%pure')
    expect(masked).toEqual(['100%pure', '100%25pure'])
    expect(registry.redact('pw 100%pure / 100%25pure')).toBe('pw *** / ***')
  })
})

describe('SecretRegistry.addExact', () => {
  it('registers the value only as given', () => {
    const { registry, masked } = recordingRegistry()
    registry.addExact('postgresql://u:p w@h/d')
    expect(masked).toEqual(['postgresql://u:p w@h/d'])
    expect(registry.redact('postgresql://u:p%20w@h/d')).toBe('postgresql://u:p%20w@h/d')
  })

  it('ignores values shorter than 2 characters', () => {
    const { registry, masked } = recordingRegistry()
    registry.addExact('y')
    registry.addExact('')
    registry.addExact(null)
    expect(masked).toEqual([])
    expect(registry.size).toBe(0)
  })
})

describe('SecretRegistry.redact', () => {
  it('replaces the longest secret first, so one that contains another is hidden whole', () => {
    const registry = new SecretRegistry()
    registry.add('secret')
    registry.add('supersecret123')
    expect(registry.redact('a supersecret123 b secret c')).toBe('a *** b *** c')
  })

  it('hides a whole DSN rather than leaving its user and host around a masked password', () => {
    const registry = new SecretRegistry()
    registry.add('s3cret')
    registry.addExact('postgresql://app_user:s3cret@db:5432/gatelab')
    expect(registry.redact('url postgresql://app_user:s3cret@db:5432/gatelab, pw s3cret')).toBe('url ***, pw ***')
  })

  it('replaces every occurrence', () => {
    const registry = new SecretRegistry()
    registry.add('s3cret')
    expect(registry.redact('s3cret s3cret-s3cret')).toBe('*** ***-***')
  })

  it('leaves text without secrets unchanged', () => {
    const registry = new SecretRegistry()
    registry.add('s3cret')
    expect(registry.redact('secret s3cre 3cret')).toBe('secret s3cre 3cret')
  })
})

describe('SecretRegistry.clean', () => {
  it('hides known secrets and, by pattern, a password nobody registered', () => {
    const registry = new SecretRegistry()
    registry.add('known-pw')
    expect(registry.clean("known-pw; input_value='postgresql://u:unknown-pw@h/d'; password=other")).toBe(
      "***; input_value='postgresql://u:***@h/d'; password=***"
    )
  })
})

describe('registerEnvironmentSecrets', () => {
  it('registers every DSN with a password, its password and its encoded forms, whatever the scheme', () => {
    const { registry, masked } = recordingRegistry()
    registerEnvironmentSecrets(
      {
        DATABASE_URL: 'postgresql://app:p%40ss@db:5432/app',
        CELERY_BROKER_URL: 'sqla+postgresql://broker:brk-pw@db/app',
        RESULT: 'db+postgresql+psycopg://res:res-pw@db/app',
        QUEUE: 'pgmq://q:pgmq-pw@db/app'
      },
      registry
    )
    for (const secret of ['postgresql://app:p%40ss@db:5432/app', 'p@ss', 'p%40ss', 'brk-pw', 'res-pw', 'pgmq-pw', 'pgmq://q:pgmq-pw@db/app'])
      expect(masked).toContain(secret)
    expect(registry.redact('p@ss brk-pw res-pw pgmq-pw')).toBe('*** *** *** ***')
  })

  it('registers each URL of a failover list and a password with an unencoded @', () => {
    const registry = new SecretRegistry()
    registerEnvironmentSecrets({ BROKERS: 'sqla+postgresql://a:first-pw@h1/d;sqla+postgresql://b:second@pw@h2/d' }, registry)
    expect(registry.redact('first-pw second@pw')).toBe('*** ***')
  })

  it('registers libpq keyword strings, PGPASSWORD and variables named as credentials', () => {
    const registry = new SecretRegistry()
    registerEnvironmentSecrets(
      {
        REPORTING_DSN: "host=db user=rep password='kw pw' dbname=rep",
        LEGACY_DSN: 'host=db password=kw-plain',
        PGPASSWORD: 'pg-pw',
        REDIS_PASSWORD: 'redis-pw',
        'INPUT_GITHUB-TOKEN': 'ghs_tokenvalue',
        FEATURE_SECRET: 'true',
        HTTP_PROXY: 'http://proxy:3128',
        PATH: '/usr/bin:/bin'
      },
      registry
    )
    expect(registry.redact('kw pw kw-plain pg-pw redis-pw ghs_tokenvalue')).toBe('*** *** *** *** ***')
    // A boolean, a URL without a password, a path: nothing of them is hidden.
    expect(registry.redact('true http://proxy:3128 /usr/bin:/bin')).toBe('true http://proxy:3128 /usr/bin:/bin')
  })

  it('ignores a password already hidden as ** (Celery prints URLs so), which would hide markdown bold', () => {
    const registry = new SecretRegistry()
    registerSecretsInText('transport: sqla+postgresql://app:**@db/app', registry)
    expect(registry.redact('**bold**')).toBe('**bold**')
  })
})
