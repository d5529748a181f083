// A run's facts as a plain object implementing GateFacts, for judging a gate (or running the
// engine) without a worker or a database: every member is given, each test overrides what its
// case is about. A member a case did not set answers as a run where nothing happened would —
// except the database, which throws: a gate that reaches for SQL needs a real PostgreSQL.
import type { GateFacts, ProbeOutcome, WorkerLines } from '../../src/gates/facts.js'
import type { ProbeReport } from '../../src/celery/probe.js'
import type { PingOutcome } from '../../src/celery/ping.js'

export type PlainFacts = Omit<Partial<GateFacts>, 'lines'> & { lines?: Partial<WorkerLines> }

export function plainFacts(over: PlainFacts = {}): GateFacts {
  const { lines, ...rest } = over
  const ping: PingOutcome = { kind: 'not-run', reason: 'the app did not import' }
  const facts: GateFacts = {
    ids: { runId: 'cfg-0000', nodeName: 'cfg-0000@host', queue: 'cfg-0000.ping', taskId: 'task-id-0000', applicationName: 'cfg-0000' },
    lines: {
      loglevel: 'INFO',
      ready: undefined,
      bannerTasks: undefined,
      bannerQueues: [],
      sinceReady: [],
      lastLines: () => [],
      elapsedMs: () => undefined,
      ...lines
    },
    probe: () => Promise.resolve<ProbeOutcome>({ ok: false, kind: 'not-started', message: 'not started' }),
    dataPlane: () => Promise.resolve(undefined),
    ping: () => Promise.resolve(ping),
    pingAnswered: async () => (await facts.ping()).kind === 'pong',
    banner: () => Promise.resolve({}),
    database: () => Promise.reject(new Error('no database in a unit test')),
    sqlChecksBlocked: () => Promise.resolve(undefined),
    extras: () => Promise.resolve([]),
    identities: () => Promise.resolve({ identities: [], rejected: 0, truncated: false, missing: true }),
    sampledSessions: () => Promise.resolve({ identities: [], samples: 0, dropped: 0 }),
    tests: () => Promise.resolve(undefined),
    workerRunning: () => false,
    workerProcessIds: () => [],
    redact: (text) => text,
    cancelled: () => false,
    ...rest
  }
  return facts
}

/** A probe of an app on a PostgreSQL data plane, as bootstrap.py reports it; `over` replaces fields. */
export function probeReport(over: Partial<ProbeReport> = {}): ProbeReport {
  const parts = { drivername: 'postgresql', username: 'worker', password: 'pw', host: 'db', port: 5432, database: 'app' }
  return {
    event: 'probe',
    seconds: 0.42,
    app: { main: 'app', repr: '<Celery app>' },
    versions: { python: '3.12.1', celery: '5.7.0', kombu: '5.5.0', sqlalchemy: '2.0.0' },
    broker: { url: 'sqla+postgresql://worker:pw@db/app', transport: 'sqla', parts },
    backend: { url: 'db+postgresql://worker:pw@db/app', scheme: 'db', parts },
    tables: { queue: 'kombu_queue', message: 'kombu_message', task: 'celery_taskmeta', group: 'celery_tasksetmeta' },
    serializers: { task: 'json', result: 'json' },
    tasks: ['app.add', 'app.mul', 'celery.ping'],
    ping_task_registered: true,
    queues: ['celery'],
    ...over
  }
}
