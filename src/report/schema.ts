// The JSON report's schema: one zod description of RunReport that both the action's `report`
// file and the CLI's `--json` output validate against. report.schema.json at the repository root
// is generated from it (`npx tsx scripts/write-report-schema.ts`; a unit test fails when stale).
//
// It is also where the report's types come from: model.ts declares RunReport and its parts as
// `z.infer` of these schemas, so the code, the validation and the published JSON Schema are one
// description. Objects are strict: a field the model does not know is an error, not silently
// stripped. The parts the report borrows from the JUnit reader and the taxonomy are declared
// there as interfaces; the compile-time check at the end of this file keeps them and their
// schemas in step: change one without the other and `npm run typecheck` fails.
import { z } from 'zod'
import { GATE_IDS, GATE_STATUSES, TOOL_NAME } from '../constants.js'
import type { ReportCounts, ReportFile } from '../junit/model.js'
import { CATEGORIES, type ComponentStatus, type TaxonomyEntry, type TestsReport } from '../taxonomy/model.js'

// Unions of the report's own (model.ts takes them from here). TEST_PHASES and the lists after it
// mirror types of the JUnit and taxonomy models: the drift check below fails if they differ.
const VERDICTS = ['pass', 'fail'] as const
const INTERRUPTION_KINDS = ['cancelled', 'input-error', 'crash'] as const
const STOP_HOWS = ['warm', 'terminated', 'killed', 'already-exited', 'not-started', 'kept'] as const
const PING_PURPOSES = ['queue', 'probe'] as const
const FAILING_OUTCOMES = ['failure', 'error'] as const
const TEST_PHASES = ['setup', 'call', 'teardown', 'collection'] as const
const REPORT_STATUSES = ['ok', 'empty', 'malformed', 'unreadable', 'not-junit'] as const
const REPORT_TOOLS = ['pytest', 'vitest', 'jest', 'junit'] as const
const COMPONENT_KINDS = ['foundation', 'tests'] as const
const COMPONENT_STATUSES = ['operational', 'broken', 'unproven', 'sound', 'defective', 'no-reports'] as const

const count = () => z.int().nonnegative()
const milliseconds = (description: string) => z.number().describe(description)

export const GateResultSchema = z.strictObject({
  // `GateId | string`: the action's own gates use GATE_IDS, synthetic reports (renderer tests)
  // use other ids. The enum branch documents the known ids.
  id: z
    .union([z.enum(GATE_IDS), z.string()], { error: 'Invalid input: expected a gate id (a string)' })
    .describe("The gate's id: one of the listed ids for the action's own gates."),
  title: z.string(),
  description: z.string(),
  status: z.enum(GATE_STATUSES),
  evidence: z.string().describe("One short line (or a few, separated by '\\n') a reviewer reads in the matrix."),
  details: z.string().optional().describe('Longer material for the collapsible section and the JSON report (tracebacks, lists).'),
  foundation: z.boolean().describe('Whether a failure of this gate makes the verdict fail.'),
  durationMs: milliseconds('How long the gate took.')
})

export const WorkerInfoSchema = z.strictObject({
  nodeName: z.string(),
  queue: z.string(),
  pid: z.int().positive().optional(),
  argv: z.array(z.string()),
  readyLine: z.string().optional(),
  exit: z
    .strictObject({
      code: z.int().nullable(),
      signal: z.string().nullable(),
      afterMs: milliseconds('Milliseconds after the worker started.')
    })
    .optional(),
  stop: z
    .strictObject({ how: z.enum(STOP_HOWS), ms: milliseconds('How long stopping took.') })
    .optional()
    .describe('How the worker ended; `kept`: left running for the job (keep-worker), stopped by the post step.'),
  logTail: z.array(z.string()).describe('Last lines the worker printed, secrets redacted.'),
  logFile: z.string().optional().describe('Path of the full (bounded, redacted) worker log.'),
  logBytes: count(),
  logTruncated: z.boolean()
})

export const VersionsInfoSchema = z.strictObject({
  python: z.string().optional(),
  celery: z.string().optional(),
  kombu: z.string().optional(),
  sqlalchemy: z.string().optional(),
  node: z.string(),
  action: z.string()
})

export const TimingsSchema = z
  .strictObject({
    probeMs: z.number().optional(),
    workerReadyMs: z.number().optional(),
    pingPublishedMs: z.number().optional(),
    pongMs: z.number().optional(),
    roundTripMs: z.number().optional(),
    gatesMs: z.number().optional(),
    workerStopMs: z.number().optional(),
    totalMs: z.number()
  })
  .describe('Milliseconds since the run started, for the milestones that happened.')

const ReportCountsSchema = z.strictObject({
  cases: count(),
  passed: count(),
  failed: count(),
  errored: count(),
  skipped: count(),
  xfailed: count(),
  xpassed: count()
})

const ReportFileSchema = z.strictObject({
  pattern: z.string().describe('The glob that matched this file.'),
  path: z.string().describe('The path as matched (relative to the directory globs start from).'),
  status: z.enum(REPORT_STATUSES),
  detail: z.string().optional().describe('For any status but ok: one line saying what is wrong.'),
  tool: z.enum(REPORT_TOOLS).optional().describe('Which runner wrote it, when recognisable.'),
  bytes: count(),
  counts: ReportCountsSchema
})

const TaxonomyEntrySchema = z.strictObject({
  report: z.string(),
  classname: z.string(),
  name: z.string(),
  outcome: z.enum(FAILING_OUTCOMES),
  phase: z.enum(TEST_PHASES).describe('Where it failed (setup, call, teardown, collection).'),
  category: z.enum(CATEGORIES),
  rule: z.string(),
  evidence: z.string(),
  remediation: z.string()
})

const ComponentStatusSchema = z.strictObject({
  component: z.string(),
  kind: z.enum(COMPONENT_KINDS),
  status: z.enum(COMPONENT_STATUSES),
  evidence: z.string()
})

const TestsReportSchema = z
  .strictObject({
    patterns: z.array(z.string()).describe('The `junit` globs as given.'),
    files: z.array(ReportFileSchema),
    unmatched: z.array(z.string()).describe('Globs that matched no file.'),
    searched: z
      .array(z.string())
      .optional()
      .describe('Where the globs were looked for (working-directory, then the workspace); set when a glob matched nothing there, or only in the workspace.'),
    fromWorkspace: z.array(z.string()).optional().describe('Globs that matched nothing in working-directory and were resolved from the workspace.'),
    totals: ReportCountsSchema,
    failed: count().describe('Failing or erroring <testcase> elements, one per taxonomy entry (the `tests-failed` output).'),
    byCategory: z.partialRecord(z.enum(CATEGORIES), count()),
    taxonomy: z.array(TaxonomyEntrySchema),
    taxonomyOmitted: count().optional().describe('Failing cases counted in `failed` but not kept in `taxonomy` (more than 100,000, or too long together).'),
    components: z.array(ComponentStatusSchema),
    verdict: z.string().describe('The overall sentence, e.g. "foundation green, test suite red: remediate the tests".'),
    rulesFile: z.string().optional().describe("Where the user's rules came from, if any."),
    durationMs: milliseconds('How long reading and classifying took.')
  })
  .describe('The JUnit reports given in `junit`, each failing test classified (the failure taxonomy).')

// What the report's `importError` holds is the bootstrap's whole import-error event
// (src/celery/probe.ts), so it also carries `event` and `seconds`. Both stay optional, as the
// published schema (version 1) has them.
const ImportErrorSchema = z.strictObject({
  event: z.literal('import-error').optional().describe('The bootstrap event this came from (always `import-error`).'),
  type: z.string(),
  message: z.string(),
  traceback: z.string(),
  seconds: z.number().optional().describe("Seconds from the bootstrap's start to the failed import.")
})

export const RunReportSchema = z
  .strictObject({
    schemaVersion: z.literal(1),
    tool: z.strictObject({ name: z.string(), version: z.string() }),
    runId: z.string(),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime(),
    verdict: z.enum(VERDICTS),
    failOn: z.string(),
    interrupted: z
      .strictObject({ kind: z.enum(INTERRUPTION_KINDS), message: z.string() })
      .optional()
      .describe('Set when the run did not finish normally: cancelled by the runner, an input error, a crash.'),
    gates: z.array(GateResultSchema),
    worker: WorkerInfoSchema.optional(),
    ping: z
      .strictObject({
        task: z.string(),
        taskId: z.string(),
        status: z.string().optional(),
        result: z.string().optional(),
        roundTripMs: z.number().optional()
      })
      .optional(),
    extraPings: z
      .array(
        z.strictObject({
          purpose: z.enum(PING_PURPOSES),
          queue: z.string(),
          task: z.string(),
          taskId: z.string(),
          status: z.string().optional(),
          worker: z.string().optional()
        })
      )
      .optional()
      .describe("The pings sent through the app's own queues (queues gate) and the dlq probe task."),
    importError: ImportErrorSchema.optional(),
    versions: VersionsInfoSchema,
    timings: TimingsSchema,
    tests: TestsReportSchema.optional(),
    trace: z
      .strictObject({ removed: z.boolean(), detail: z.string() })
      .optional()
      .describe('What the run left in the broker and result tables, and whether it was removed.'),
    settings: z.record(z.string(), z.string()).describe('Inputs as the run understood them, DSNs redacted.')
  })
  .meta({
    $id: `urn:${TOOL_NAME}:report:schema-version-1`,
    title: 'Celery Foundation Gates run report',
    description:
      "One run of Celery Foundation Gates: the verdict, every gate's status and evidence, the worker, the ping, versions, timings and the classified test failures. Written by the action (the file named by its `report` output) and printed by the CLI with `--json`."
  })

/** `path: message` lines for everything wrong with `value` as a RunReport; `ok` when nothing is. */
export function validateReport(value: unknown): { ok: true } | { ok: false; problems: string[] } {
  const result = RunReportSchema.safeParse(value)
  if (result.success) return { ok: true }
  return { ok: false, problems: result.error.issues.map((issue) => `${issuePath(issue.path)}: ${issue.message}`) }
}

/** `gates[3].status`, `settings["working-directory"]`; `(root)` for the report itself. */
function issuePath(path: readonly PropertyKey[]): string {
  let text = ''
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) text += text ? `.${key}` : key
    else text += `[${JSON.stringify(String(key))}]`
  }
  return text || '(root)'
}

// ---------------------------------------------------------------------------------------------
// Compile-time drift check (types only, nothing runs) for the parts of the report whose types are
// declared elsewhere (the JUnit reader's and the taxonomy's interfaces; the report's own types
// are this schema's, see model.ts). Two ways a schema could drift:
//  1. a type differs (a new status, a field made optional, a number become a string): the plain
//     types must be assignable both ways;
//  2. an optional field exists on one side only: plain mutual assignability cannot see that (an
//     object type with an extra optional field is assignable both ways), so the same check runs
//     again on both sides with every field made required, at every depth.
// Each part is checked on its own, so the error names the part that drifted.

type DeepRequired<T> = T extends readonly (infer E)[] ? DeepRequired<E>[] : T extends object ? { [K in keyof T]-?: DeepRequired<T[K]> } : T
type Assignable<A, B> = [A] extends [B] ? true : false
type Same<Schema, Model> =
  Assignable<Schema, Model> extends false
    ? 'the schema accepts values the model does not allow'
    : Assignable<Model, Schema> extends false
      ? 'the model allows values the schema rejects'
      : Assignable<DeepRequired<Schema>, DeepRequired<Model>> extends false
        ? 'the model has an optional field the schema lacks'
        : Assignable<DeepRequired<Model>, DeepRequired<Schema>> extends false
          ? 'the schema has an optional field the model lacks'
          : true
type Check<T extends true> = T

export type SchemaDriftChecks = [
  Check<Same<z.infer<typeof TestsReportSchema>, TestsReport>>,
  Check<Same<z.infer<typeof ReportFileSchema>, ReportFile>>,
  Check<Same<z.infer<typeof ReportCountsSchema>, ReportCounts>>,
  Check<Same<z.infer<typeof TaxonomyEntrySchema>, TaxonomyEntry>>,
  Check<Same<z.infer<typeof ComponentStatusSchema>, ComponentStatus>>
]
