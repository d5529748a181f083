// Is the app's data plane PostgreSQL? Decided from what the imported app configures (reported by
// bootstrap.py), never from environment variables or guesses. Shared by the broker-config gate
// and by the run, which boots the worker only when there is a Postgres data plane to ping through.
// Which transport carries the messages (kombu's sqla tables, PGMQ) is the plane's kind: the run
// and the gates ask that plane (planes/) what to do, rather than knowing transports.
import { isPostgresScheme, parseDsn, redactDsn, type DsnParts } from '../db/dsn.js'
import { planeFor, type PlaneKind, type RunNames } from '../planes/index.js'
import { driftProblems } from './drift.js'
import type { ProbeReport } from './probe.js'

export interface Endpoint {
  url: string
  parts: DsnParts
  redacted: string
}

export interface DataPlane {
  /** The transport carrying the messages: planes/index.ts planeOf(kind) answers for it. */
  kind: PlaneKind
  broker: Endpoint
  backend: Endpoint
}

export type DataPlaneCheck = { ok: true; plane: DataPlane; notes: string[] } | { ok: false; problems: string[]; brokerShown: string; backendShown: string }

const KNOWN: Record<string, string> = {
  redis: 'Redis',
  rediss: 'Redis (TLS)',
  sentinel: 'Redis Sentinel',
  amqp: 'RabbitMQ/AMQP',
  amqps: 'RabbitMQ/AMQP (TLS)',
  pyamqp: 'RabbitMQ/AMQP',
  librabbitmq: 'RabbitMQ/AMQP',
  sqs: 'Amazon SQS',
  memory: 'in-memory (not shared between processes)',
  filesystem: 'filesystem',
  rpc: 'RPC (replies over the AMQP broker)',
  disabled: 'disabled (no result backend)',
  cache: 'cache (memcached/in-memory)',
  mongodb: 'MongoDB',
  'django-db': 'django-db (Django ORM)',
  'django-cache': 'django-cache',
  file: 'filesystem',
  sqlite: 'SQLite',
  mysql: 'MySQL',
  mssql: 'Microsoft SQL Server',
  oracle: 'Oracle'
}

function describeScheme(scheme: string): string {
  const base = scheme.split('+')[0] ?? scheme
  return KNOWN[base] ? `${scheme}:// (${KNOWN[base]})` : `${scheme}://`
}

function endpoint(url: string | null | undefined): { url: string; parts?: DsnParts; shown: string } {
  const u = url ?? ''
  return { url: u, parts: parseDsn(u), shown: u ? redactDsn(u) : '(not set)' }
}

const POSTGRES_ALIAS_HINT = 'SQLAlchemy 1.4+ rejects the postgres:// alias: write postgresql://'

/**
 * `names`: the node name and queue the run gives the worker, which a plane with name limits (PGMQ)
 * checks before the worker declares them.
 */
export function classifyDataPlane(probe: ProbeReport, names?: RunNames): DataPlaneCheck {
  const problems: string[] = []
  const notes: string[] = []
  const broker = endpoint(probe.broker.url)
  const backend = endpoint(probe.backend.url)

  const bp = broker.parts
  const plane = bp ? planeFor(bp) : undefined
  if (!bp) problems.push(`broker is not a URL: ${broker.shown}`)
  // kombu's PGMQ transport is PostgreSQL too: what the worker would die of on it, if anything.
  else if (plane?.kind === 'pgmq') problems.push(...plane.probeProblems(probe, names))
  else if (!bp.prefix && (isPostgresScheme(bp.scheme) || bp.scheme === 'postgres'))
    problems.push(`broker is ${bp.scheme}:// without kombu's sqla+ prefix: write sqla+postgresql:// to use its SQLAlchemy transport`)
  else if (bp.prefix !== 'sqla' && bp.prefix !== 'sqlalchemy')
    problems.push(`broker is ${describeScheme(bp.prefix ? `${bp.prefix}+${bp.scheme}` : bp.scheme)}, not PostgreSQL (sqla+postgresql:// or pgmq://)`)
  else if (!isPostgresScheme(bp.scheme))
    problems.push(
      bp.scheme === 'postgres'
        ? `broker uses sqla+postgres://: ${POSTGRES_ALIAS_HINT}`
        : `broker is SQLAlchemy on ${describeScheme(bp.scheme)}, not PostgreSQL (sqla+postgresql:// or pgmq://)`
    )
  if (probe.broker.urls && probe.broker.urls.length > 1) notes.push(`${probe.broker.urls.length} failover broker URLs configured; the first is checked`)

  const rp = backend.parts
  const scheme = probe.backend.scheme ?? ''
  if (!probe.backend.url || scheme === 'disabled') problems.push('result backend is not configured (results are disabled), not PostgreSQL (db+postgresql://)')
  else if (!rp) problems.push(`result backend is ${describeScheme(scheme)}, not PostgreSQL (db+postgresql://)`)
  else if (!rp.prefix && (isPostgresScheme(rp.scheme) || rp.scheme === 'postgres'))
    problems.push(`result backend is ${rp.scheme}:// without Celery's db+ prefix: write db+postgresql:// to use its database backend`)
  else if (rp.prefix !== 'db')
    problems.push(`result backend is ${describeScheme(rp.prefix ? `${rp.prefix}+${rp.scheme}` : rp.scheme)}, not PostgreSQL (db+postgresql://)`)
  else if (!isPostgresScheme(rp.scheme))
    problems.push(
      rp.scheme === 'postgres'
        ? `result backend uses db+postgres://: ${POSTGRES_ALIAS_HINT}`
        : `result backend is SQLAlchemy on ${describeScheme(rp.scheme)}, not PostgreSQL (db+postgresql://)`
    )
  else if (probe.backend.backend_error) problems.push(`result backend cannot load: ${probe.backend.backend_error}`)

  // Only for a PostgreSQL data plane: what the worker would die of at boot with these packages.
  if (!problems.length) problems.push(...driftProblems(plane?.kind === 'pgmq' ? withoutBrokerDriver(probe) : probe))
  if (problems.length || !bp || !rp) return { ok: false, problems, brokerShown: broker.shown, backendShown: backend.shown }
  const resolved = plane ? plane.resolve(bp, probe) : { parts: bp, notes: [] }
  return {
    ok: true,
    notes: [...notes, ...resolved.notes],
    plane: {
      kind: plane?.kind ?? 'sqla',
      broker: { url: broker.url, parts: resolved.parts, redacted: broker.shown },
      backend: { url: backend.url, parts: rp, redacted: backend.shown }
    }
  }
}

/** PGMQ connects with psycopg through the pgmq package, not through a SQLAlchemy driver. */
function withoutBrokerDriver(probe: ProbeReport): ProbeReport {
  const drift = probe.drift
  if (!drift?.drivers) return probe
  return { ...probe, drift: { ...drift, drivers: { ...drift.drivers, broker: null } } }
}
