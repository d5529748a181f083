// The events bootstrap.py writes on file descriptor 3, validated at the boundary: the Python
// side runs in the user's interpreter with the user's packages, so its output is outside data.
import { z } from 'zod'

/**
 * The schemas, built on first use rather than at import: their construction is a measurable part of
 * the action's start, which delays the worker's spawn, while the first event comes only once
 * Python has imported the app, hundreds of milliseconds later.
 */
function buildSchemas() {
  const UrlParts = z
    .object({
      drivername: z.string(),
      username: z.string().nullish(),
      password: z.string().nullish(),
      host: z.string().nullish(),
      port: z.number().nullish(),
      database: z.string().nullish(),
      query: z.record(z.string(), z.unknown()).nullish()
    })
    .nullish()

  const Driver = z.object({ driver: z.string().nullish(), dialect: z.string().nullish(), module: z.string().nullish(), error: z.string().nullish() }).nullish()
  const TableModel = z.object({
    columns: z
      .array(
        z.object({
          name: z.string(),
          type: z.string(),
          nullable: z.boolean(),
          primary_key: z.boolean(),
          used: z.boolean(),
          sequence: z.string().nullish(),
          sequence_schema: z.string().nullish()
        })
      )
      .max(500),
    indexes: z.array(z.object({ name: z.string(), columns: z.array(z.string()).max(50), unique: z.boolean() })).max(200),
    /** The model's unique constraints, as column lists (UNIQUE(task_id)). */
    unique: z.array(z.array(z.string()).max(50)).max(50).optional()
  })
  const EngineOptions = z.object({ keys: z.array(z.string()).max(500), rejected: z.array(z.string()).max(500), error: z.string().nullish() })
  /** What the installed Celery, kombu and SQLAlchemy need (drift.py); each part may be absent. */
  const Drift = z.object({
    drivers: z.object({ broker: Driver, results: Driver }).optional(),
    engine_options: EngineOptions.optional(),
    backend_engine_options: EngineOptions.optional(),
    result_tables: z.object({ task: TableModel, group: TableModel }).optional(),
    broker_tables: z.object({ queue: TableModel.optional(), message: TableModel.optional() }).optional(),
    error: z.string().optional()
  })

  const Probe = z.object({
    event: z.literal('probe'),
    seconds: z.number(),
    app: z.object({ main: z.string().nullish(), repr: z.string() }),
    versions: z.object({
      python: z.string(),
      celery: z.string().nullish(),
      kombu: z.string().nullish(),
      sqlalchemy: z.string().nullish(),
      psycopg: z.string().nullish(),
      psycopg2: z.string().nullish()
    }),
    broker: z.object({
      url: z.string().nullish(),
      urls: z.array(z.string()).nullish(),
      transport: z.string().nullish(),
      transport_class: z.string().nullish(),
      transport_error: z.string().nullish(),
      polling_interval: z.number().nullish(),
      parts: UrlParts,
      /** kombu's PGMQ transport only (pgmq_probe.py). */
      pgmq: z
        .object({
          queue_name_prefix: z.string().max(200),
          init_extension: z.boolean(),
          visibility_timeout: z.number().nullish(),
          conn_string: z.boolean().nullish(),
          package: z.string().max(40).nullish(),
          bundled_sql: z.string().max(40).nullish(),
          partitioned_queues: z.array(z.string().max(200)).max(100).nullish()
        })
        .nullish()
    }),
    backend: z.object({
      url: z.string().nullish(),
      scheme: z.string().nullish(),
      backend_class: z.string().nullish(),
      backend_error: z.string().nullish(),
      parts: UrlParts
    }),
    drift: Drift.optional(),
    tables: z.object({
      queue: z.string(),
      message: z.string(),
      task: z.string(),
      group: z.string(),
      task_schema: z.string().nullish(),
      group_schema: z.string().nullish()
    }),
    serializers: z.object({
      task: z.string().nullish(),
      result: z.string().nullish(),
      accept_content: z.array(z.string()).nullish()
    }),
    tasks: z.array(z.string()),
    ping_task_registered: z.boolean(),
    default_queue: z.string().nullish(),
    queues: z.array(z.string()),
    ping_payload: z.string().nullish(),
    ping_payload_error: z.string().nullish(),
    /** Queues a worker started without -Q consumes (task_queues, or the default queue). */
    default_consumed_queues: z.array(z.string()).optional(),
    /** Queues the booted worker consumes (its final -Q). */
    consumed_queues: z.array(z.string()).optional(),
    /** Queue → the app's tasks Celery's router sends there. */
    routes: z.record(z.string(), z.array(z.string())).optional(),
    route_errors: z.record(z.string(), z.string()).optional(),
    /** Pings for the app's other queues and the dlq probe task, built by Celery like the ping. */
    extra_payloads: z
      .array(
        z.object({
          purpose: z.enum(['queue', 'probe']),
          queue: z.string(),
          task: z.string(),
          taskId: z.string(),
          payload: z.string().optional(),
          error: z.string().optional()
        })
      )
      .optional()
  })

  const ImportFailure = z.object({
    event: z.literal('import-error'),
    type: z.string(),
    message: z.string(),
    traceback: z.string(),
    seconds: z.number().optional()
  })

  const BootstrapError = z.object({
    event: z.literal('error'),
    stage: z.string(),
    type: z.string(),
    message: z.string(),
    traceback: z.string()
  })

  const BootstrapEvent = z.discriminatedUnion('event', [Probe, ImportFailure, BootstrapError])
  return { Probe, ImportFailure, BootstrapError, BootstrapEvent }
}

type Schemas = ReturnType<typeof buildSchemas>
export type ProbeReport = z.infer<Schemas['Probe']>
export type TableModel = NonNullable<NonNullable<ProbeReport['drift']>['result_tables']>['task']
export type ImportFailure = z.infer<Schemas['ImportFailure']>
export type BootstrapError = z.infer<Schemas['BootstrapError']>
export type BootstrapEvent = z.infer<Schemas['BootstrapEvent']>

/** What became of the probe: the app's report, its import error, or why it never ran. */
export type ProbeOutcome =
  | { ok: true; probe: ProbeReport }
  | { ok: false; kind: 'import-error'; error: ImportFailure }
  | { ok: false; kind: 'not-started'; message: string; details?: string }

/**
 * The bootstrap's first event as the run's probe outcome, its outside text redacted. `worker`
 * says how the process ended, when no event came: its spawn error, its last lines.
 */
export function probeOutcomeOf(
  event: BootstrapEvent | { event: 'no-event'; reason: string },
  worker: { python: string; spawnError?: string; lastLines: () => string },
  redact: (text: string) => string
): ProbeOutcome {
  switch (event.event) {
    case 'probe':
      return { ok: true, probe: event }
    case 'import-error':
      return { ok: false, kind: 'import-error', error: { ...event, traceback: redact(event.traceback), message: redact(event.message) } }
    case 'error':
      return { ok: false, kind: 'not-started', message: redact(`${event.stage} failed: ${event.message}`), details: redact(event.traceback) }
    default: {
      const stderr = worker.lastLines()
      const reason = worker.spawnError ?? `${worker.python} did not run the probe (${event.reason}); is it a Python 3 interpreter with Celery installed?`
      return { ok: false, kind: 'not-started', message: redact(reason), details: stderr || undefined }
    }
  }
}

let schemas: Schemas | undefined

/** Validates one event of the bootstrap (already JSON-parsed). */
export function parseBootstrapEvent(raw: unknown): ReturnType<Schemas['BootstrapEvent']['safeParse']> {
  schemas ??= buildSchemas()
  return schemas.BootstrapEvent.safeParse(raw)
}
