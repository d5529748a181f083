// The rule engine: ordered rules, first match wins, conditions on text, outcome, phase and this
// run's gates; evidence is the line the deciding pattern matched; no rule means `unknown`.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { TestCase } from '../../src/junit/model.js'
import { classify, NO_RULE, type ClassifyContext } from '../../src/taxonomy/classify.js'
import { DEFAULT_RULES } from '../../src/taxonomy/default-rules.js'
import { loadRulesFile } from '../../src/taxonomy/rules-file.js'
import { compileRules, RulesError } from '../../src/taxonomy/rules.js'

function testCase(over: Partial<TestCase>): TestCase {
  return {
    report: 'reports/junit.xml',
    classname: 'tests.test_x',
    name: 'test_y',
    outcome: 'failure',
    phase: 'call',
    message: '',
    type: '',
    text: '',
    systemOut: '',
    systemErr: '',
    truncated: false,
    ...over
  }
}

const GREEN: ClassifyContext = {
  gates: { import: 'pass', 'broker-config': 'pass', runtime: 'pass', 'db-access': 'pass', 'rls-role': 'pass' },
  values: { pong_ms: '1540', pong_after_ready_ms: '71', timeout_s: '60' }
}
const withGates = (gates: ClassifyContext['gates']): ClassifyContext => ({ ...GREEN, gates: { ...GREEN.gates, ...gates } })

describe('the rule engine', () => {
  const rules = compileRules(
    [
      { id: 'first', category: 'harness:eager-mode', when: { text: 'eager' }, remediation: 'one' },
      { id: 'second', category: 'harness:readiness', when: { text: 'eager|ready' }, remediation: 'two' }
    ],
    'test rules'
  )

  it('takes the first rule that matches', () => {
    const e = classify(testCase({ text: 'line one\n  eager and ready here\nend' }), rules, GREEN)
    expect(e).toMatchObject({ category: 'harness:eager-mode', rule: 'first', remediation: 'one' })
  })

  it('quotes the whole line where the deciding pattern matched', () => {
    expect(classify(testCase({ text: 'line one\n  worker not ready: gave up  \nend' }), rules, GREEN).evidence).toBe('worker not ready: gave up')
  })

  it('calls a case no rule explains unknown, quoting the error line', () => {
    const e = classify(testCase({ text: '    def test_y():\n>       assert 1 == 2\nE       assert 1 == 2\n' }), rules, GREEN)
    expect(e).toMatchObject({ category: 'unknown', rule: NO_RULE, evidence: 'assert 1 == 2' })
  })

  it('never classifies passing or skipped cases', () => {
    expect(classify(testCase({ outcome: 'skipped', text: 'eager' }), rules, GREEN).category).toBe('unknown')
  })

  it('requires every condition: outcome, phase, gates, and all patterns', () => {
    const strict = compileRules(
      [
        {
          id: 'r',
          category: 'harness:readiness',
          when: { outcome: 'error', phase: ['setup'], gates: { runtime: 'pass' }, message: 'ready', test: '^tests\\.' },
          remediation: 'x'
        }
      ],
      'strict'
    )
    const base = { outcome: 'error' as const, phase: 'setup' as const, message: 'not ready' }
    expect(classify(testCase(base), strict, GREEN).rule).toBe('r')
    expect(classify(testCase({ ...base, outcome: 'failure' }), strict, GREEN).rule).toBe(NO_RULE)
    expect(classify(testCase({ ...base, phase: 'call' }), strict, GREEN).rule).toBe(NO_RULE)
    expect(classify(testCase(base), strict, withGates({ runtime: 'fail' })).rule).toBe(NO_RULE)
    expect(classify(testCase({ ...base, message: 'boom' }), strict, GREEN).rule).toBe(NO_RULE)
    expect(classify(testCase({ ...base, classname: 'other.test_x' }), strict, GREEN).rule).toBe(NO_RULE)
  })

  it('honours `not` and /pattern/flags', () => {
    const r = compileRules([{ id: 'r', category: 'unknown', when: { any: '/EAGER/i', not: { test: 'skipme' } }, remediation: 'x' }], 'r')
    expect(classify(testCase({ text: 'eager' }), r, GREEN).rule).toBe('r')
    expect(classify(testCase({ text: 'eager', name: 'test_skipme' }), r, GREEN).rule).toBe(NO_RULE)
  })

  it('fills measured values into remediations and leaves unknown placeholders alone', () => {
    const r = compileRules([{ id: 'r', category: 'unknown', remediation: 'pong after {pong_after_ready_ms} ms {nope}' }], 'r')
    expect(classify(testCase({}), r, GREEN).remediation).toBe('pong after 71 ms {nope}')
  })

  it('cuts credentials out of the quoted line (pytest prints every frame argument)', () => {
    const r = compileRules([{ id: 'r', category: 'foundation:runtime', when: { text: 'conninfo|dsn|kwargs' }, remediation: 'x' }], 'r')
    const quote = (text: string): string => classify(testCase({ text }), r, GREEN).evidence
    expect(quote("conninfo = 'host=127.0.0.1 port=5433 user=app_user password=s3cr3t dbname=app'")).toBe(
      "conninfo = 'host=127.0.0.1 port=5433 user=app_user password=*** dbname=app'"
    )
    expect(quote("kwargs = {'host': '127.0.0.1', 'password': 's3cr3t'}")).toBe("kwargs = {'host': '127.0.0.1', 'password': '***'}")
    expect(quote('dsn = postgresql://app_user:s3cr3t@127.0.0.1:5433/app')).toBe('dsn = postgresql://app_user:***@127.0.0.1:5433/app')
  })

  it('rejects a bad rule with one line naming where it is wrong', () => {
    expect(() => compileRules([{ id: 'r', category: 'harness:nope', remediation: 'x' }], 'my.yml')).toThrow(/^my\.yml: \[0\]\.category: /)
    expect(() => compileRules([{ id: 'r', category: 'unknown', when: { text: '(' }, remediation: 'x' }], 'my.yml')).toThrow(
      /my\.yml: \[0\]\.when\.text: invalid regular expression/
    )
    expect(() => compileRules([{ id: 'r', category: 'unknown', when: { colour: 'x' }, remediation: 'x' }], 'my.yml')).toThrow(RulesError)
    expect(() =>
      compileRules(
        [
          { id: 'a', category: 'unknown', remediation: 'x' },
          { id: 'a', category: 'unknown', remediation: 'y' }
        ],
        'f'
      )
    ).toThrow('f: rule id a is used twice')
  })

  it('accepts the documented example rules file', () => {
    const rules = loadRulesFile(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'taxonomy-rules.yml'))
    expect(rules.map((r) => r.id)).toEqual(['vendor-sandbox-timeout', 'fixture-waits-for-flower'])
    const tc = testCase({ outcome: 'error', phase: 'setup', text: '    def wait_for_flower(url):' })
    expect(classify(tc, rules, GREEN).remediation).toContain("answered the action's ping in 71 ms")
  })

  it('reads rules files in YAML and JSON, with or without a top-level `rules:`', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-rules-'))
    const yml = path.join(dir, 'rules.yml')
    writeFileSync(
      yml,
      "rules:\n  - id: flaky-vendor\n    category: harness:readiness\n    when:\n      text: '/vendor sandbox \\d+ timed out/i'\n    remediation: Retry the vendor sandbox.\n"
    )
    const json = path.join(dir, 'rules.json')
    writeFileSync(json, JSON.stringify([{ id: 'j', category: 'unknown', remediation: 'x' }]))
    expect(loadRulesFile(yml)[0]).toMatchObject({ id: 'flaky-vendor', category: 'harness:readiness' })
    expect(classify(testCase({ text: 'Vendor SANDBOX 42 timed out' }), loadRulesFile(yml), GREEN).rule).toBe('flaky-vendor')
    expect(loadRulesFile(json)[0]?.id).toBe('j')
    writeFileSync(yml, 'rules: [unclosed')
    expect(() => loadRulesFile(yml)).toThrow(/is not valid YAML or JSON/)
    expect(() => loadRulesFile(path.join(dir, 'missing.yml'))).toThrow(/cannot read .*missing\.yml: ENOENT/)
  })
})

describe('the default rules', () => {
  const readinessError = {
    outcome: 'error' as const,
    phase: 'setup' as const,
    message: 'failed on setup with "RuntimeError: Celery worker not ready: data-plane task execution failed"'
  }

  it("calls a readiness error a harness race when this run's own worker answered, quoting its pong", () => {
    const e = classify(testCase(readinessError), DEFAULT_RULES, GREEN)
    expect(e).toMatchObject({ category: 'harness:readiness', rule: 'readiness-race' })
    expect(e.remediation).toContain('71 ms after the worker printed ready (1540 ms after it was started)')
  })

  it('calls the same error a foundation failure when the runtime gate failed', () => {
    expect(classify(testCase(readinessError), DEFAULT_RULES, withGates({ runtime: 'fail' }))).toMatchObject({
      category: 'foundation:runtime',
      rule: 'worker-never-ready'
    })
  })

  it('leaves it unknown when the runtime gate could not run', () => {
    expect(classify(testCase(readinessError), DEFAULT_RULES, withGates({ runtime: 'skip' })).category).toBe('unknown')
  })

  it('recognises the database refusing a connection as a foundation failure', () => {
    const text =
      'E   sqlalchemy.exc.OperationalError: (psycopg.OperationalError) connection failed: connection to server at "127.0.0.1", port 5499 failed: Connection refused'
    expect(classify(testCase({ text }), DEFAULT_RULES, GREEN)).toMatchObject({ category: 'foundation:runtime', rule: 'database-refused' })
  })

  it("tells kombu's PGMQ set-up failures from a missing grant", () => {
    for (const text of [
      'E   psycopg.errors.InsufficientPrivilege: must be owner of table q_celery',
      'E   psycopg.errors.InvalidSchemaName: schema "pgmq" does not exist',
      'E   psycopg.errors.FeatureNotSupported: extension "pgmq" is not available',
      'E   psycopg.errors.RaiseException: queue name is too long, maximum length is 47 characters',
      "E   KeyError: 'No such transport: pgmq'"
    ])
      expect(classify(testCase({ text }), DEFAULT_RULES, GREEN), text).toMatchObject({ category: 'foundation:broker-config', rule: 'pgmq-broker-setup' })
    // A privilege on PGMQ's schema is a grant like any other.
    const denied = 'E   psycopg.errors.InsufficientPrivilege: permission denied for schema pgmq'
    expect(classify(testCase({ text: denied }), DEFAULT_RULES, GREEN)).toMatchObject({ category: 'foundation:db-access', rule: 'missing-privilege' })
  })

  it('recognises a missing privilege', () => {
    const text = 'E   psycopg.errors.InsufficientPrivilege: permission denied for table kombu_message'
    const e = classify(testCase({ text }), DEFAULT_RULES, GREEN)
    expect(e).toMatchObject({ category: 'foundation:db-access', evidence: text.trim() })
  })

  it('blames a tenant test on the foundation only when the rls-role gate failed', () => {
    // pytest's traceback shows the test's source, so what the test is about is in its text.
    const tc = testCase({
      name: 'test_no_invoice_visible_without_tenant',
      text: '    def test_no_invoice_visible_without_tenant(app_db):\n>       assert app_db.count_invoices() == 0\nE       assert 2 == 0'
    })
    expect(classify(tc, DEFAULT_RULES, withGates({ 'rls-role': 'fail' })).category).toBe('foundation:rls-role')
    expect(classify(tc, DEFAULT_RULES, GREEN).category).toBe('unknown')
  })

  it('files caplog assertions under log capture before eager mode', () => {
    const text =
      "    def test_worker_logs_are_structured(caplog, eager_app):\n>       assert 'app.tasks.housekeeping.ping' in {r.task_name for r in caplog.records}\nE       AssertionError"
    expect(classify(testCase({ text }), DEFAULT_RULES, GREEN).category).toBe('harness:log-capture')
  })

  it('files eager assertions on backend results under eager mode', () => {
    const text =
      '    def test_ping_result_persisted(eager_app, db):\n        result = ping.delay()\n>       assert db.result_row(result.id) is not None\nE       assert None is not None'
    expect(classify(testCase({ text }), DEFAULT_RULES, GREEN)).toMatchObject({ category: 'harness:eager-mode', rule: 'eager-mode' })
  })

  it('files unfinished coroutines under async bridge', () => {
    const text = "E   RuntimeWarning: coroutine '_upsert_job_identity' was never awaited"
    expect(classify(testCase({ text }), DEFAULT_RULES, GREEN).category).toBe('harness:async-bridge')
  })
})
