// report.schema.json and the zod schema it comes from (src/report/schema.ts): the committed file
// is current, every real report validates against both, and broken reports are rejected by both
// with an error that says where and what.
import { readdirSync, readFileSync } from 'node:fs'
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import { REPORT_SCHEMA_FILE, reportSchemaText } from '../../scripts/write-report-schema.js'
import { RunReportSchema, validateReport } from '../../src/report/schema.js'

const FIXTURES_DIR = new URL('../fixtures/reports/', import.meta.url)
const FIXTURE_FILES = readdirSync(FIXTURES_DIR)
  .filter((file) => file.endsWith('.json'))
  .sort()

const fixture = (file: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(file, FIXTURES_DIR), 'utf8'))

const committedText = readFileSync(REPORT_SCHEMA_FILE, 'utf8')

function jsonSchemaValidator() {
  // Strict mode: a keyword ajv does not know is an error, not ignored. ajv-formats is no
  // dependency, so `date-time` is declared known; the pattern zod emits next to it checks it.
  const ajv = new Ajv2020({ strict: true, allErrors: true, formats: { 'date-time': true } })
  return ajv.compile(JSON.parse(committedText))
}
const validateJson = jsonSchemaValidator()

/** Both validators' verdicts on `value`, with the problems each one names. */
function judge(value: unknown): { zod: string[]; ajv: ErrorObject[]; ajvText: string } {
  const zod = validateReport(value)
  const ajvOk = validateJson(value)
  const ajv = ajvOk ? [] : [...(validateJson.errors ?? [])]
  return { zod: zod.ok ? [] : zod.problems, ajv, ajvText: ajv.length ? JSON.stringify(ajv) : '' }
}

describe('report.schema.json', () => {
  it('is what scripts/write-report-schema.ts generates from RunReportSchema now', () => {
    expect(committedText, 'report.schema.json is stale: run `npx tsx scripts/write-report-schema.ts` and commit the result').toBe(reportSchemaText())
  })

  it('says what it is: draft 2020-12, with an $id, a title and a description', () => {
    const schema = JSON.parse(committedText)
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
    expect(schema.$id).toMatch(/^urn:celery-foundation-gates:report:/)
    expect(schema.title).toEqual(expect.any(String))
    expect(schema.description).toEqual(expect.any(String))
    expect(schema.additionalProperties).toBe(false)
  })
})

describe('the captured reports', () => {
  it('are all here', () => {
    expect(FIXTURE_FILES.length).toBeGreaterThanOrEqual(10)
  })

  it.each(FIXTURE_FILES)('%s validates against report.schema.json (ajv) and parses with RunReportSchema', (file) => {
    const report = fixture(file)
    expect(validateJson(report), JSON.stringify(validateJson.errors, null, 2)).toBe(true)
    expect(validateReport(report)).toEqual({ ok: true })
    // Parsing changes nothing: no field is stripped, defaulted or transformed.
    expect(RunReportSchema.parse(report)).toEqual(report)
  })
})

// Each case breaks one thing in a real report; both validators must reject it and say where.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the cases reach into any field of a report to break it
type Report = Record<string, any>
interface Broken {
  name: string
  base?: string
  breakIt: (report: Report) => unknown
  /** The exact problem line validateReport gives (the first one). */
  problem: string
  /** Where ajv points (instancePath) and the keyword that failed. */
  ajv: { instancePath: string; keyword: string }
}

const BROKEN: Broken[] = [
  {
    name: 'a gate status that is not a status',
    breakIt: (r) => void (r.gates[2].status = 'maybe'),
    problem: 'gates[2].status: Invalid option: expected one of "pass"|"fail"|"warn"|"skip"',
    ajv: { instancePath: '/gates/2/status', keyword: 'enum' }
  },
  {
    name: 'no verdict',
    breakIt: (r) => void delete r.verdict,
    problem: 'verdict: Invalid option: expected one of "pass"|"fail"',
    ajv: { instancePath: '', keyword: 'required' }
  },
  {
    name: 'a verdict that is not one',
    breakIt: (r) => void (r.verdict = 'PASS'),
    problem: 'verdict: Invalid option: expected one of "pass"|"fail"',
    ajv: { instancePath: '/verdict', keyword: 'enum' }
  },
  {
    name: 'an unknown top-level field',
    breakIt: (r) => void (r.colour = 'green'),
    problem: '(root): Unrecognized key: "colour"',
    ajv: { instancePath: '', keyword: 'additionalProperties' }
  },
  {
    name: 'an unknown field in a gate',
    breakIt: (r) => void (r.gates[0].severity = 'high'),
    problem: 'gates[0]: Unrecognized key: "severity"',
    ajv: { instancePath: '/gates/0', keyword: 'additionalProperties' }
  },
  {
    name: 'another schema version',
    breakIt: (r) => void (r.schemaVersion = 2),
    problem: 'schemaVersion: Invalid input: expected 1',
    ajv: { instancePath: '/schemaVersion', keyword: 'const' }
  },
  {
    name: 'a gate id that is not a string',
    breakIt: (r) => void (r.gates[0].id = 7),
    problem: 'gates[0].id: Invalid input: expected a gate id (a string)',
    ajv: { instancePath: '/gates/0/id', keyword: 'anyOf' }
  },
  {
    name: 'a gate without evidence',
    breakIt: (r) => void delete r.gates[4].evidence,
    problem: 'gates[4].evidence: Invalid input: expected string, received undefined',
    ajv: { instancePath: '/gates/4', keyword: 'required' }
  },
  {
    name: 'a start time that is not an ISO timestamp',
    breakIt: (r) => void (r.startedAt = 'yesterday'),
    problem: 'startedAt: Invalid ISO datetime',
    ajv: { instancePath: '/startedAt', keyword: 'pattern' }
  },
  {
    name: 'an unknown interruption kind',
    base: 'cancelled.json',
    breakIt: (r) => void (r.interrupted.kind = 'timeout'),
    problem: 'interrupted.kind: Invalid option: expected one of "cancelled"|"input-error"|"crash"',
    ajv: { instancePath: '/interrupted/kind', keyword: 'enum' }
  },
  {
    name: 'an unknown way the worker stopped',
    breakIt: (r) => void (r.worker.stop.how = 'vanished'),
    problem: 'worker.stop.how: Invalid option: expected one of "warm"|"terminated"|"killed"|"already-exited"|"not-started"|"kept"',
    ajv: { instancePath: '/worker/stop/how', keyword: 'enum' }
  },
  {
    name: 'a setting that is not a string',
    breakIt: (r) => void (r.settings.timeout = 60),
    problem: 'settings.timeout: Invalid input: expected string, received number',
    ajv: { instancePath: '/settings/timeout', keyword: 'type' }
  },
  {
    name: 'a failing test in a category the taxonomy does not have',
    base: 'tests-suite-red.json',
    breakIt: (r) => void (r.tests.taxonomy[0].category = 'harness:flaky'),
    problem: expect.stringMatching(/^tests\.taxonomy\[0\]\.category: Invalid option: expected one of "foundation:import"\|/),
    ajv: { instancePath: '/tests/taxonomy/0/category', keyword: 'enum' }
  },
  {
    name: 'a count by an unknown category',
    base: 'tests-suite-red.json',
    breakIt: (r) => void (r.tests.byCategory['harness:flaky'] = 1),
    problem: 'tests.byCategory: Unrecognized key: "harness:flaky"',
    ajv: { instancePath: '/tests/byCategory', keyword: 'propertyNames' }
  },
  {
    name: 'a fractional test count',
    base: 'tests-suite-red.json',
    breakIt: (r) => void (r.tests.totals.failed = 1.5),
    problem: 'tests.totals.failed: Invalid input: expected int, received number',
    ajv: { instancePath: '/tests/totals/failed', keyword: 'type' }
  },
  {
    name: 'an import error with a field the bootstrap never writes',
    base: 'import-error.json',
    breakIt: (r) => void (r.importError.stage = 'probe'),
    problem: 'importError: Unrecognized key: "stage"',
    ajv: { instancePath: '/importError', keyword: 'additionalProperties' }
  },
  {
    name: 'not a report at all',
    breakIt: () => ['pass'],
    problem: '(root): Invalid input: expected object, received array',
    ajv: { instancePath: '', keyword: 'type' }
  }
]

describe('broken reports', () => {
  it.each(BROKEN.map((c) => [c.name, c] as const))('are rejected by both validators: %s', (_name, c) => {
    const report = fixture(c.base ?? 'all-pass.json')
    // The unbroken report passes, so the rejection below is the break's doing.
    expect(judge(report)).toEqual({ zod: [], ajv: [], ajvText: '' })
    const broken = c.breakIt(report) ?? report

    const { zod, ajv } = judge(broken)
    expect(zod[0]).toEqual(c.problem)
    expect(ajv).toContainEqual(expect.objectContaining(c.ajv))
    expect(RunReportSchema.safeParse(broken).success).toBe(false)
  })

  it('names every problem, one `path: message` line each', () => {
    const report = fixture('all-pass.json') as Report
    report.gates[0].status = 'maybe'
    delete report.verdict
    report.colour = 'green'
    const result = validateReport(report)
    expect(result).toEqual({
      ok: false,
      problems: [
        'verdict: Invalid option: expected one of "pass"|"fail"',
        'gates[0].status: Invalid option: expected one of "pass"|"fail"|"warn"|"skip"',
        '(root): Unrecognized key: "colour"'
      ]
    })
  })

  it('ajv says the same in words', () => {
    const report = fixture('all-pass.json') as Report
    report.gates[0].status = 'maybe'
    expect(validateJson(report)).toBe(false)
    const ajv = new Ajv2020()
    expect(ajv.errorsText(validateJson.errors)).toContain('data/gates/0/status must be equal to one of the allowed values')
  })

  it('accepts optional fields left out, as build.ts writes a report before the run has facts', () => {
    const report = fixture('input-error.json') as Report
    for (const key of ['worker', 'ping', 'extraPings', 'importError', 'tests', 'trace', 'interrupted']) delete report[key]
    report.timings = { totalMs: 3 }
    report.versions = { node: '20.20.2', action: '0.1.0' }
    expect(judge(report)).toEqual({ zod: [], ajv: [], ajvText: '' })
  })

  it('accepts an in-memory report whose optional fields are present but undefined (validateReport only)', () => {
    // buildReport spreads probe versions that may be undefined; JSON.stringify drops them later.
    const report = fixture('all-pass.json') as Report
    report.versions.celery = undefined
    expect(validateReport(report)).toEqual({ ok: true })
  })
})
