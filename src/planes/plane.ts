// A data plane: the transport that carries the app's messages through PostgreSQL (kombu's sqla
// tables, PGMQ …). The gates and the run ask the plane — how its URL is recognised, how kombu's
// transport would publish a message, what the run left behind and how to remove it, what version
// is installed — instead of knowing transports themselves. A third transport is one new file
// implementing BrokerPlane, listed in planes/index.ts.
import type { Database } from '../db/database.js'
import type { DsnParts } from '../db/dsn.js'
import type { ProbeReport } from '../celery/probe.js'

export type PlaneKind = 'sqla' | 'pgmq'

/** A message Celery built (bootstrap.py: the JSON kombu's virtual transport hands to `_put`). */
export interface Outgoing {
  queue: string
  payload: string
}

/** One message the run put into a queue, as the plane identifies it (for its removal). */
export interface Sent {
  queue: string
  id: number
}

/** What one run published and its worker created or stored because of it. */
export interface RunTrace {
  probe: ProbeReport
  /** The run's own queue (kombu's name for it, before any transport renaming). */
  queue: string
  /** The worker's node name (its pidbox queue is named after it). */
  nodeName: string
  /** application_name of the worker's sessions (a stopped worker's may linger server-side). */
  applicationName?: string
  /** The messages the run put into the app's queues. */
  sent: Sent[]
  /** The result rows of the run's ping, its queue pings and its dlq probe task. */
  taskIds: string[]
  /** The dead-letter table as PostgreSQL resolved it, and the probe task whose row it holds. */
  deadLetter?: { table: string; taskId: string }
}

export interface TraceCleanup {
  removed: boolean
  detail: string
}

/** The names a run gives the worker, which a plane may have to fit into its own limits. */
export interface RunNames {
  nodeName: string
  queue: string
}

export interface BrokerPlane {
  readonly kind: PlaneKind
  /** What the worker's banner and the evidence call it. */
  readonly label: string
  /** Whether the broker URL (already parsed) is this plane's: `sqla+postgresql://`, `pgmq://`. */
  recognises(parts: DsnParts): boolean
  /**
   * What the worker would die of at boot on this plane, known from the probe alone (a transport
   * that cannot load, a queue name the transport cannot hold).
   */
  probeProblems(probe: ProbeReport, names?: RunNames): string[]
  /**
   * Where the worker's transport really connects for this broker URL (the defaults it fills in),
   * and anything the URL alone does not tell (notes for broker-config).
   */
  resolve(parts: DsnParts, probe: ProbeReport): { parts: DsnParts; notes: string[] }
  /** The transport's own name for a queue of kombu's (PGMQ renames punctuation and adds its prefix). */
  queueName(probe: ProbeReport, queue: string): string
  /** Whether the plane's storage exists in the database yet (else the worker creates it first). */
  ready(db: Database, probe: ProbeReport): Promise<boolean>
  /** Whether the worker (or the action) declared `queue` already. */
  queueExists(db: Database, probe: ProbeReport, queue: string): Promise<boolean>
  /**
   * Declares `queues` (those the worker will consume: kombu would, the action does it first
   * without a race) and puts `messages` into their queues exactly as kombu's transport would.
   */
  publish(db: Database, probe: ProbeReport, queues: string[], messages: Outgoing[]): Promise<Sent[]>
  /** Removes what the run created and stored; the detail may quote the database (callers redact). */
  removeTrace(db: Database, trace: RunTrace, opts?: { keepQueue?: boolean }): Promise<TraceCleanup>
  /**
   * broker-config's look at the plane in the database, as the worker's role: evidence lines (the
   * transport, the version found) and what would kill the worker at boot there (PGMQ missing, an
   * extension it may not create, a queue table another role owns) — said before it dies of it.
   * The connection is opened only by a plane that asks the database (`open`; the caller closes it).
   */
  evidence(open: () => Promise<Database>, probe: ProbeReport, names: RunNames): Promise<{ lines: string[]; problems: string[] }>
  /** Whether a database object the worker was denied on is part of this plane (the run's concern). */
  ownsObject(object: string, probe: ProbeReport): boolean
  /** The tables whose locks would block the publish and the worker's poll (named when they do). */
  lockedTables(probe: ProbeReport, queues: string[]): string[]
}

/** One removal of a plane's clean-up: what it removes (for people), the statement, its parameters. */
export type CleanupStep = [what: string, sql: string, params: unknown[]]

/**
 * Runs a plane's clean-up steps one by one (a refused step does not stop the others): what was
 * removed, and what stays and why. A step whose relation (or schema) never came to exist
 * (`absent` SQLSTATEs) has nothing to remove; a refusal (42501) is said with `denied`.
 */
export async function runCleanupSteps(
  db: Database,
  steps: readonly CleanupStep[],
  opts: { absent: readonly string[]; denied: (message: string | undefined) => string; deadLetterTaskId?: string }
): Promise<{ removed: string[]; left: string[] }> {
  const removed: string[] = []
  const left: string[] = []
  for (const [what, sql, params] of steps) {
    try {
      await db.query(sql, params)
      removed.push(what)
    } catch (err) {
      const e = err as { code?: string; message?: string }
      if (e.code && opts.absent.includes(e.code)) continue
      const why = e.code === '42501' ? opts.denied(e.message) : (e.message ?? 'error')
      left.push(what === 'dead-letter row' ? `the probe task's dead-letter row, task id ${opts.deadLetterTaskId} (${why})` : `${what} (${why})`)
    }
  }
  return { removed, left }
}
