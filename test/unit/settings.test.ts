import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GATE_IDS, Inputs, type InputName } from '../../src/constants.js'
import { GATE_OF_INPUT, InputError, loadSettings, parseSettings, splitIdentifierList, type RawInputs } from '../../src/settings.js'

const APP = { [Inputs.App]: 'app.celery_app' }

/** Parses inputs that must be rejected; checks the one-line `Input "<name>": …` form and returns the message. */
function rejection(raw: RawInputs, input: InputName): string {
  let error: unknown
  try {
    parseSettings(raw)
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(InputError)
  const { message } = error as InputError
  expect((error as InputError).input).toBe(input)
  expect(message.startsWith(`Input "${input}": `)).toBe(true)
  expect(message).not.toMatch(/[\n\r]/)
  return message
}

let savedWorkspace: string | undefined
let tempDirs: string[] = []

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cfg-settings-'))
  tempDirs.push(dir)
  return dir
}

beforeEach(() => {
  savedWorkspace = process.env.GITHUB_WORKSPACE
  delete process.env.GITHUB_WORKSPACE
})

afterEach(() => {
  if (savedWorkspace === undefined) delete process.env.GITHUB_WORKSPACE
  else process.env.GITHUB_WORKSPACE = savedWorkspace
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  tempDirs = []
})

describe('parseSettings defaults', () => {
  it('fills every optional input with its default', () => {
    expect(parseSettings(APP)).toEqual({
      app: 'app.celery_app',
      workingDirectory: process.cwd(),
      python: 'python3',
      workerArgs: [],
      workerEnv: [],
      databaseUrl: undefined,
      databaseUrlParts: undefined,
      expectedRole: 'app_user',
      allowedRoles: [],
      pingTask: 'celery.ping',
      timeoutSeconds: 60,
      tenantTables: undefined,
      failOn: 'foundation',
      junit: undefined,
      rulesFile: undefined,
      userRules: [],
      gates: GATE_IDS.filter((g) => g !== 'dlq'),
      expectedTasks: [],
      logFields: ['level', 'logger', 'message'],
      dlqTable: undefined,
      dlqProbeTask: undefined,
      keepWorker: false,
      githubToken: undefined,
      prComment: true,
      checkRun: false
    })
  })

  it('reads the gates to run in matrix order and rejects unknown ids', () => {
    expect(parseSettings({ ...APP, gates: 'ci, runtime\nimport' }).gates).toEqual(['import', 'runtime', 'ci'])
    expect(() => parseSettings({ ...APP, gates: 'import sanity' })).toThrow(/^Input "gates": expected gate ids among import, .*; got "sanity"$/)
  })

  it('reads keep-worker like a YAML boolean, and nothing else', () => {
    expect(parseSettings({ ...APP, 'keep-worker': 'true' }).keepWorker).toBe(true)
    expect(parseSettings({ ...APP, 'keep-worker': 'False' }).keepWorker).toBe(false)
    expect(() => parseSettings({ ...APP, 'keep-worker': 'yes' })).toThrow('Input "keep-worker": expected true or false, got "yes"')
  })

  it('reads worker-env as variable names, comma or newline separated, and rejects anything else in one line', () => {
    expect(parseSettings({ ...APP, 'worker-env': 'GITHUB_TOKEN, APP_KEY\n_X1,GITHUB_TOKEN' }).workerEnv).toEqual(['GITHUB_TOKEN', 'APP_KEY', '_X1'])
    expect(rejection({ ...APP, 'worker-env': 'GITHUB_TOKEN, INPUT_GITHUB-TOKEN' }, Inputs.WorkerEnv)).toBe(
      'Input "worker-env": expected environment variable names like GITHUB_TOKEN or APP_SECRET (comma or newline separated), got "INPUT_GITHUB-TOKEN"'
    )
    // A value given by mistake is not echoed: it may be the secret itself.
    const message = rejection({ ...APP, 'worker-env': 'API_KEY=s3cr3t-value' }, Inputs.WorkerEnv)
    expect(message).toContain('give the name only')
    expect(message).not.toContain('s3cr3t')
    expect(GATE_OF_INPUT[Inputs.WorkerEnv]).toBe('import')
  })

  it('reads expected tasks and log fields as lists, and the dlq inputs', () => {
    const s = parseSettings({
      ...APP,
      'expected-tasks': 'a.b, c.d\ne.f',
      'log-fields': 'severity msg',
      'dlq-table': 'public."Dead Letters"',
      'dlq-probe-task': 'app.tasks.fail'
    })
    expect(s).toMatchObject({
      expectedTasks: ['a.b', 'c.d', 'e.f'],
      logFields: ['severity', 'msg'],
      dlqTable: 'public."Dead Letters"',
      dlqProbeTask: 'app.tasks.fail'
    })
    expect(() => parseSettings({ ...APP, 'expected-tasks': 'ok.task bad;task' })).toThrow(/^Input "expected-tasks": expected task names/)
  })

  it('turns the dlq gate on by default only when a dlq-table is given, and keeps it when asked for by name', () => {
    expect(parseSettings(APP).gates).not.toContain('dlq')
    expect(parseSettings({ ...APP, 'dlq-table': 'public.dead_letters' }).gates).toEqual([...GATE_IDS])
    expect(parseSettings({ ...APP, gates: 'runtime,dlq' }).gates).toEqual(['runtime', 'dlq'])
  })

  it('treats empty strings (an unset INPUT_* variable) like missing inputs', () => {
    const settings = parseSettings({ ...APP, timeout: '', 'fail-on': '', 'expected-role': '', 'ping-task': '', python: '', 'worker-args': ' ' })
    expect(settings).toMatchObject({
      timeoutSeconds: 60,
      failOn: 'foundation',
      expectedRole: 'app_user',
      pingTask: 'celery.ping',
      python: 'python3',
      workerArgs: []
    })
  })

  it('trims inputs', () => {
    const settings = parseSettings({ app: '  pkg.module:app\n', timeout: ' 7 ', 'fail-on': 'NEVER ' })
    expect(settings).toMatchObject({ app: 'pkg.module:app', timeoutSeconds: 7, failOn: 'never' })
  })
})

describe('parseSettings app', () => {
  it('requires the app', () => {
    expect(rejection({}, Inputs.App)).toBe('Input "app": is required: the Celery app as given to `celery -A`, e.g. app.celery_app')
  })

  it('rejects shell syntax in the app as data and runs nothing', () => {
    const marker = path.join(tempDir(), 'pwned')
    for (const app of ['app.celery_app; touch /tmp/pwned', `app.celery_app; touch ${marker}`, 'app.celery_app$(touch /tmp/pwned)']) {
      const message = rejection({ app }, Inputs.App)
      expect(message).toContain('expected a Python module path like app.celery_app or pkg.module:app')
      expect(message).toContain(`got ${JSON.stringify(app)}`)
    }
    expect(existsSync('/tmp/pwned')).toBe(false)
    expect(existsSync(marker)).toBe(false)
  })

  it.each(['app', 'app.celery_app', 'pkg.module:app', 'pkg.module:factory.app', '_private.app'])('accepts %s', (app) => {
    expect(parseSettings({ app }).app).toBe(app)
  })

  it.each(['app.', '1app', 'pkg.module:', 'pkg module', 'pkg/module'])('rejects %j', (app) => {
    rejection({ app }, Inputs.App)
  })
})

describe('parseSettings timeout', () => {
  it.each(['0', '-5', 'abc', '1e9', '3601', '1.', '.5', '0x10'])('rejects %j naming the range and the value', (timeout) => {
    expect(rejection({ ...APP, timeout }, Inputs.Timeout)).toBe(`Input "timeout": expected a number of seconds from 1 to 3600, got ${JSON.stringify(timeout)}`)
  })

  it.each([
    ['1.5', 1.5],
    ['1', 1],
    ['3600', 3600],
    ['90', 90]
  ])('accepts %j as %d seconds', (timeout, seconds) => {
    expect(parseSettings({ ...APP, timeout }).timeoutSeconds).toBe(seconds)
  })
})

describe('parseSettings fail-on', () => {
  it('rejects an unknown mode, listing the known ones', () => {
    expect(rejection({ ...APP, 'fail-on': 'sometimes' }, Inputs.FailOn)).toBe('Input "fail-on": expected one of foundation, any, never; got "sometimes"')
  })

  it.each([
    ['never', 'never'],
    ['Foundation', 'foundation']
  ])('accepts %j case-insensitively', (given, mode) => {
    expect(parseSettings({ ...APP, 'fail-on': given }).failOn).toBe(mode)
  })
})

describe('parseSettings working-directory', () => {
  it('resolves a relative directory against GITHUB_WORKSPACE', () => {
    const workspace = tempDir()
    mkdirSync(path.join(workspace, 'services', 'billing'), { recursive: true })
    process.env.GITHUB_WORKSPACE = workspace
    expect(parseSettings({ ...APP, 'working-directory': 'services/billing' }).workingDirectory).toBe(path.join(workspace, 'services', 'billing'))
    expect(parseSettings(APP).workingDirectory).toBe(workspace)
  })

  it('rejects a directory that does not exist, showing where it looked', () => {
    const workspace = tempDir()
    process.env.GITHUB_WORKSPACE = workspace
    expect(rejection({ ...APP, 'working-directory': 'missing' }, Inputs.WorkingDirectory)).toBe(
      `Input "working-directory": expected an existing directory, got "missing" (${path.join(workspace, 'missing')} does not exist)`
    )
  })

  it('rejects a file', () => {
    const workspace = tempDir()
    writeFileSync(path.join(workspace, 'celeryconfig.py'), '')
    process.env.GITHUB_WORKSPACE = workspace
    expect(rejection({ ...APP, 'working-directory': 'celeryconfig.py' }, Inputs.WorkingDirectory)).toBe(
      `Input "working-directory": expected a directory, got "celeryconfig.py" (${path.join(workspace, 'celeryconfig.py')} is a file)`
    )
  })

  it('keeps an absolute directory as it is', () => {
    const dir = tempDir()
    process.env.GITHUB_WORKSPACE = '/nonexistent-workspace'
    expect(parseSettings({ ...APP, 'working-directory': dir }).workingDirectory).toBe(dir)
  })
})

describe('parseSettings database-url', () => {
  it.each([
    ['mysql://root:pw@db/app', 'got a mysql:// URL'],
    ['redis://:pw@redis:6379/0', 'got a redis:// URL'],
    ['not a url', 'got something that is not a URL']
  ])('rejects %s without printing it', (url, got) => {
    const message = rejection({ ...APP, 'database-url': url }, Inputs.DatabaseUrl)
    expect(message).toBe(`Input "database-url": expected a PostgreSQL DSN like postgresql://user:password@host:5432/db, ${got}`)
    expect(message).not.toContain('pw')
  })

  it.each([
    ['postgresql://app_user:s3cret@db:5432/gatelab', 'postgresql', undefined],
    ['postgres://app_user:s3cret@db:5432/gatelab', 'postgres', undefined],
    ['sqla+postgresql+psycopg2://app_user:s3cret@db:5432/gatelab', 'postgresql+psycopg2', 'sqla']
  ])('accepts %s', (url, scheme, prefix) => {
    const settings = parseSettings({ ...APP, 'database-url': url })
    expect(settings.databaseUrl).toBe(url)
    expect(settings.databaseUrlParts).toMatchObject({ scheme, prefix, username: 'app_user', password: 's3cret', host: 'db', port: 5432, database: 'gatelab' })
  })
})

describe('parseSettings tenant-tables', () => {
  it('keeps quoted names with commas whole and as given', () => {
    expect(parseSettings({ ...APP, 'tenant-tables': 'public."Weird,Table", invoices' }).tenantTables).toEqual(['public."Weird,Table"', 'invoices'])
  })

  it('keeps an entry with an unclosed quote for rls-role to report, and the others', () => {
    // Not an input error: the run goes on, and rls-role names the entry that is not a table name.
    expect(parseSettings({ ...APP, 'tenant-tables': 'public."Weird, invoices' }).tenantTables).toEqual(['public."Weird', 'invoices'])
  })

  it('rejects a name with a control character', () => {
    const message = rejection({ ...APP, 'tenant-tables': 'invoices, bad\tname' }, Inputs.TenantTables)
    expect(message).toContain('expected table names like invoices or public."Weird-Table", got "bad?name"')
  })
})

describe('parseSettings expected-role', () => {
  it('accepts a 63-character role and rejects a 64-character one', () => {
    expect(parseSettings({ ...APP, 'expected-role': 'r'.repeat(63) }).expectedRole).toBe('r'.repeat(63))
    const message = rejection({ ...APP, 'expected-role': 'r'.repeat(64) }, Inputs.ExpectedRole)
    expect(message).toBe(`Input "expected-role": expected a PostgreSQL role name (at most 63 bytes), got "${'r'.repeat(64)}"`)
  })

  it('shortens a very long given value in the message', () => {
    const message = rejection({ ...APP, 'expected-role': 'r'.repeat(500) }, Inputs.ExpectedRole)
    expect(message).toContain(`got "${'r'.repeat(77)}..."`)
    expect(message.length).toBeLessThan(200)
  })

  // 32 × 'é' is 32 characters but 64 bytes, which PostgreSQL would truncate (NAMEDATALEN 64).
  it('rejects a role name of more than 63 bytes written with fewer characters', () => {
    rejection({ ...APP, 'expected-role': 'é'.repeat(32) }, Inputs.ExpectedRole)
  })
})

describe('parseSettings ping-task and python', () => {
  it('rejects a task name with spaces', () => {
    expect(rejection({ ...APP, 'ping-task': 'my ping task' }, Inputs.PingTask)).toBe(
      'Input "ping-task": expected a task name like celery.ping or app.tasks.ping, got "my ping task"'
    )
  })

  it('accepts dotted and colon task names', () => {
    expect(parseSettings({ ...APP, 'ping-task': 'app.tasks:ping-v2' }).pingTask).toBe('app.tasks:ping-v2')
  })

  it('rejects a python with a control character, shown as ?', () => {
    expect(rejection({ ...APP, python: 'py\u0007thon' }, Inputs.Python)).toBe('Input "python": expected a Python interpreter name or path, got "py?thon"')
  })
})

describe('parseSettings worker-args', () => {
  it('splits the arguments', () => {
    expect(parseSettings({ ...APP, 'worker-args': '--pool=solo --concurrency 2' }).workerArgs).toEqual(['--pool=solo', '--concurrency', '2'])
  })

  it('rejects shell syntax as a one-line input error', () => {
    expect(rejection({ ...APP, 'worker-args': '--pool=solo; rm -rf /' }, Inputs.WorkerArgs)).toContain('shell syntax is not supported (found ";")')
  })
})

describe('loadSettings taxonomy-rules', () => {
  const RULES =
    'rules:\n  - id: flaky-vendor\n    category: harness:readiness\n    when: { any: "/Vendor SANDBOX/" }\n    remediation: Retry the vendor sandbox.\n'

  it('reads the rules file relative to the workspace', async () => {
    const workspace = tempDir()
    process.env.GITHUB_WORKSPACE = workspace
    mkdirSync(path.join(workspace, 'ci'))
    writeFileSync(path.join(workspace, 'ci', 'rules.yml'), RULES)
    const settings = await loadSettings({ ...APP, 'taxonomy-rules': 'ci/rules.yml' })
    expect(settings.rulesFile).toBe('ci/rules.yml')
    expect(settings.userRules.map((r) => [r.id, r.category])).toEqual([['flaky-vendor', 'harness:readiness']])
    expect((await loadSettings(APP)).userRules).toEqual([])
  })

  it('parseSettings reads no file; loadSettings rejects a missing or invalid one in one line', async () => {
    const workspace = tempDir()
    process.env.GITHUB_WORKSPACE = workspace
    expect(parseSettings({ ...APP, 'taxonomy-rules': 'missing.yml' }).userRules).toEqual([])
    await expect(loadSettings({ ...APP, 'taxonomy-rules': 'missing.yml' })).rejects.toThrow(
      /^Input "taxonomy-rules": expected a YAML or JSON rules file: cannot read .*missing\.yml: ENOENT$/
    )
    writeFileSync(path.join(workspace, 'bad.yml'), 'rules:\n  - id: x\n    category: nonsense\n')
    const error = await loadSettings({ ...APP, 'taxonomy-rules': 'bad.yml' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InputError)
    expect((error as InputError).input).toBe(Inputs.TaxonomyRules)
    expect((error as InputError).message).not.toMatch(/[\n\r]/)
  })

  it('reports a wrong input before reading the rules file', async () => {
    await expect(loadSettings({ ...APP, timeout: '0', 'taxonomy-rules': 'missing.yml' })).rejects.toThrow(/^Input "timeout": /)
  })
})

describe('parseSettings with several wrong inputs', () => {
  it('reports the first in contract order', () => {
    rejection({ app: 'bad app', timeout: '0', 'fail-on': 'x' }, Inputs.App)
    rejection({ ...APP, timeout: '0', 'fail-on': 'x' }, Inputs.Timeout)
  })
})

describe('splitIdentifierList', () => {
  it('splits on commas and newlines, trimming and dropping empty entries', () => {
    expect(splitIdentifierList('invoices,\n  payments ,, \n\nledger\n')).toEqual(['invoices', 'payments', 'ledger'])
  })

  it('does not split inside double quotes, and keeps the quotes', () => {
    expect(splitIdentifierList('"a,b", "c\nd", public."x"')).toEqual(['"a,b"', '"c\nd"', 'public."x"'])
  })

  it('handles doubled quotes inside a quoted name', () => {
    expect(splitIdentifierList('"say ""hi"", then", t')).toEqual(['"say ""hi"", then"', 't'])
  })

  it('returns nothing for an empty or blank list', () => {
    expect(splitIdentifierList('')).toEqual([])
    expect(splitIdentifierList(' ,\n ')).toEqual([])
  })

  it('ends an entry with an unclosed quote at the next comma or newline, and splits the rest', () => {
    // The entry is then a finding of rls-role (src/db/table-name.ts), not an error of the whole run.
    expect(splitIdentifierList('"open, t')).toEqual(['"open', 't'])
    expect(splitIdentifierList('invoices, public."open\nledger, "x"')).toEqual(['invoices', 'public."open', 'ledger', '"x"'])
    expect(splitIdentifierList('a, "open')).toEqual(['a', '"open'])
  })
})

describe('GATE_OF_INPUT', () => {
  it('maps every input, and only inputs, to a gate id', () => {
    expect(Object.keys(GATE_OF_INPUT).sort()).toEqual(Object.values(Inputs).sort())
    for (const input of Object.values(Inputs)) expect(GATE_IDS).toContain(GATE_OF_INPUT[input])
  })

  it('sends app and database inputs to the gates that use them', () => {
    expect(GATE_OF_INPUT[Inputs.App]).toBe('import')
    expect(GATE_OF_INPUT[Inputs.DatabaseUrl]).toBe('db-access')
    expect(GATE_OF_INPUT[Inputs.ExpectedRole]).toBe('rls-role')
    expect(GATE_OF_INPUT[Inputs.Timeout]).toBe('runtime')
  })
})

describe('pull-request feedback inputs', () => {
  it('keeps the token, comments by default and creates a check run only when asked', () => {
    const s = parseSettings({ ...APP, [Inputs.GithubToken]: ' ghs_abc123 ', [Inputs.CheckRun]: 'true' })
    expect([s.githubToken, s.prComment, s.checkRun]).toEqual(['ghs_abc123', true, true])
    expect(parseSettings({ ...APP, [Inputs.PrComment]: 'false' }).prComment).toBe(false)
  })

  it('rejects a token with whitespace without echoing it', () => {
    const message = rejection({ ...APP, [Inputs.GithubToken]: 'ghs_secret value' }, Inputs.GithubToken)
    expect(message).not.toContain('ghs_secret')
    expect(GATE_OF_INPUT[Inputs.GithubToken]).toBe('ci')
    expect(rejection({ ...APP, [Inputs.CheckRun]: 'yes' }, Inputs.CheckRun)).toContain('expected true or false, got "yes"')
  })
})
