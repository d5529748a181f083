// Continuous outside attribution for rls-role: from the worker's spawn to its stop, pg_stat_activity
// is read every SAMPLE_INTERVAL_MS on a connection of the action's own, for the sessions of the
// worker's process tree — those carrying the run's application_name (PGAPPNAME, which libpq, psql
// and psycopg read) and those whose client port is a TCP socket held by a process of the tree
// (run/proc: /proc/<pid>/fd → /proc/<pid>/net/tcp). The in-process record (connections.py) sees
// what goes through the hooked drivers; this sees what goes around them (libpq through ctypes, a
// subprocess running psql, asyncpg), as long as the session lives for one sample. It never reads
// a password: pg_stat_activity holds none, and the query column is not selected.
import { readFileSync } from 'node:fs'
import type { ObservedIdentity } from '../celery/connections.js'
import { connect, type Database } from '../db/database.js'
import type { DsnParts } from '../db/dsn.js'
import { descendants, isAlive, localPortsTo } from '../proc/process-tree.js'

export const SAMPLE_INTERVAL_MS = 300
/** Distinct sessions kept (a kept pool opening one per task for the whole run must stay bounded). */
export const SAMPLED_SESSIONS_MAX = 500
/** Consecutive failed samples after which sampling stops (the server went away, the role lost rights). */
const ERRORS_MAX = 5
const FIELD_MAX = 200

/** One row of a sample: a backend of the worker's tree. */
export interface SessionRowSample {
  pid: number
  usename: string | null
  application_name: string | null
  client_port: number | null
  backend_start: string | null
}

export interface SampledRecord {
  /** Roles seen, aggregated per (role, where), with how many distinct sessions. */
  identities: ObservedIdentity[]
  /** Samples taken. */
  samples: number
  /** Sessions seen but not kept (over SAMPLED_SESSIONS_MAX). */
  dropped: number
  /** Why nothing was sampled, or why sampling stopped early. */
  note?: string
  /**
   * Connections of the worker's processes to the server's port that no visible session matched in
   * two samples running: PostgreSQL shows the client port of a session only to its own role, a
   * member, or pg_read_all_stats, so a process connecting as another role (a superuser, say) with
   * its own application_name is invisible to a sampler that is not one of those.
   */
  unattributed?: string
}

export interface SamplerOptions {
  /** The action's own connection for sampling, and the server port the worker's sockets point at. */
  connect: () => Promise<{ db: Database; serverPort: number } | undefined>
  applicationName: string
  /** The worker's main process id, while it runs. */
  workerPid: () => number | undefined
  redact: (text: string) => string
  intervalMs?: number
  /** Distinct sessions kept (SAMPLED_SESSIONS_MAX). */
  maxSessions?: number
}

interface Kept {
  role: string
  where: string
}

export class SessionSampler {
  private readonly sessions = new Map<string, Kept>()
  /** Sessions seen but not kept, each counted once (itself bounded: past it, only counted). */
  private readonly droppedKeys = new Set<string>()
  private droppedMore = 0
  private samples = 0
  private errors = 0
  private note: string | undefined
  private stopped = false
  private timer: NodeJS.Timeout | undefined
  private db: Database | undefined
  private serverPort = 5432
  private inFlight: Promise<void> | undefined
  /** Worker ports no visible session matched, by how many samples running; and those seen so in two. */
  private readonly unmatched = new Map<number, number>()
  private readonly unseen = new Set<number>()
  private sampledAs = 'the sampling role'
  private connecting: Promise<void> | undefined

  constructor(private readonly options: SamplerOptions) {}

  start(): void {
    if (this.connecting || this.stopped) return
    this.connecting = this.options
      .connect()
      .then(async (target) => {
        if (!target) {
          this.note ??= 'no PostgreSQL DSN to sample from'
          return
        }
        // Stopped while connecting: the connection is not needed any more.
        if (this.stopped) return target.db.close()
        this.db = target.db
        this.sampledAs = target.db.role
        this.serverPort = target.serverPort
        this.tick()
      })
      .catch((err: Error) => {
        this.note ??= `could not connect to sample pg_stat_activity: ${this.options.redact(String(err?.message ?? err).split('\n')[0] ?? '')}`
      })
  }

  /** One more sample now (when sampling), then what was seen so far. */
  async snapshot(): Promise<SampledRecord> {
    if (this.db && !this.stopped) {
      await this.inFlight
      const sample = this.sampleOnce().then(() => undefined)
      this.inFlight = sample
      await sample
    }
    return this.record()
  }

  /** Stops sampling and closes the connection; safe to call more than once, on every path. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    await this.inFlight?.catch(() => undefined)
    const db = this.db
    this.db = undefined
    await db?.close()
  }

  record(): SampledRecord {
    const byKey = new Map<string, ObservedIdentity>()
    for (const s of this.sessions.values()) {
      const key = JSON.stringify([s.role, s.where])
      const seen = byKey.get(key)
      if (seen) seen.count++
      else byKey.set(key, { role: s.role, where: s.where, source: 'pg_stat_activity', count: 1 })
    }
    return {
      identities: [...byKey.values()],
      samples: this.samples,
      dropped: this.droppedKeys.size + this.droppedMore,
      ...(this.note ? { note: this.note } : {}),
      ...(this.unseen.size
        ? {
            unattributed: `${this.unseen.size} connection${this.unseen.size === 1 ? '' : 's'} of the worker's processes to port ${this.serverPort} matched no session ${this.clean(this.sampledAs)} may see: PostgreSQL shows a session's client port only to its own role, a member, or pg_read_all_stats, so a session of another role (a superuser among them) with its own application_name goes unseen (or it is another server on that port) — set database-url to a role with pg_read_all_stats to see them`
          }
        : {})
    }
  }

  private tick(): void {
    if (this.stopped || !this.db) return
    const sample = this.sampleOnce()
    this.inFlight = sample.then(() => undefined)
    void sample.then((more) => {
      // The worker stopped: its sessions are gone, nothing more to see.
      if (this.stopped || !more) return
      this.timer = setTimeout(() => this.tick(), this.options.intervalMs ?? SAMPLE_INTERVAL_MS)
      // Never what keeps the action's process alive.
      this.timer.unref()
    })
  }

  /** Takes one sample; false once there is nothing more to sample (no worker, no connection). */
  private async sampleOnce(): Promise<boolean> {
    const db = this.db
    const root = this.options.workerPid()
    if (!db || !root) return false
    const pids = descendants(root).filter(isAlive)
    const owners = portOwners(pids, this.serverPort)
    try {
      const rows = await db.query<SessionRowSample & Record<string, unknown>>(
        `SELECT pid, usename, application_name, client_port, backend_start::text AS backend_start
           FROM pg_stat_activity
          WHERE pid <> pg_backend_pid() AND usename IS NOT NULL
            AND (application_name = $1 OR client_port = ANY($2::int[]))`,
        [this.options.applicationName, [...owners.keys()]]
      )
      this.samples++
      this.errors = 0
      for (const row of rows) this.keep(row, owners)
      this.noteUnmatched(rows, owners)
      return true
    } catch (err) {
      if (++this.errors >= ERRORS_MAX) {
        this.note = `sampling stopped after ${ERRORS_MAX} failed samples: ${this.options.redact(String((err as Error)?.message ?? err).split('\n')[0] ?? '')}`
        return false
      }
      return true
    }
  }

  /** A worker port matched by no row in two samples running (one connecting is matched by the next). */
  private noteUnmatched(rows: SessionRowSample[], owners: Map<number, string>): void {
    const matched = new Set(rows.map((r) => r.client_port))
    for (const port of [...this.unmatched.keys()]) if (!owners.has(port) || matched.has(port)) this.unmatched.delete(port)
    for (const port of owners.keys()) {
      if (matched.has(port) || this.unseen.has(port)) continue
      const n = (this.unmatched.get(port) ?? 0) + 1
      this.unmatched.set(port, n)
      if (n >= 2 && this.unseen.size < SAMPLED_SESSIONS_MAX) this.unseen.add(port)
    }
  }

  private keep(row: SessionRowSample, owners: Map<number, string>): void {
    // A backend pid is reused only after that session ended; with its start time it is one session.
    const key = `${row.pid}:${row.backend_start ?? ''}`
    if (this.sessions.has(key) || this.droppedKeys.has(key)) return
    const max = this.options.maxSessions ?? SAMPLED_SESSIONS_MAX
    if (this.sessions.size >= max) {
      if (this.droppedKeys.size < max * 20) this.droppedKeys.add(key)
      else this.droppedMore++
      return
    }
    const role = this.clean(row.usename ?? '?')
    this.sessions.set(key, { role, where: whereOf(row, owners, this.options.applicationName, (t) => this.clean(t)) })
  }

  /** Outside text (the app sets application_name, a process sets its own name): printable, short, scrubbed. */
  private clean(text: string): string {
    return this.options.redact(text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')).slice(0, FIELD_MAX)
  }
}

/**
 * Starts sampling for a spawned worker, on a connection of its own to the action's database
 * (`databaseParts`: database-url, else the broker's DSN, known once the app imported): the gates'
 * transactions on the shared connection must not hold its samples.
 */
export function startSampler(
  run: { ids: { applicationName: string }; redact(text: string): string; databaseParts(): Promise<{ parts: DsnParts } | undefined> },
  worker: { readonly pid?: number; readonly hasExited?: unknown }
): SessionSampler {
  const sampler = new SessionSampler({
    connect: async () => {
      const parts = (await run.databaseParts())?.parts
      return parts ? { db: await connect(parts, { connectTimeoutMs: 5000 }), serverPort: parts.port ?? 5432 } : undefined
    },
    applicationName: run.ids.applicationName,
    workerPid: () => (worker.hasExited ? undefined : worker.pid),
    redact: (text) => run.redact(text)
  })
  sampler.start()
  return sampler
}

/** "python3 process (application_name reports-etl)", or "session with the run's application_name". */
export function whereOf(row: SessionRowSample, owners: Map<number, string>, runApplicationName: string, clean: (t: string) => string): string {
  const process = row.client_port !== null ? owners.get(row.client_port) : undefined
  const app = row.application_name && row.application_name !== runApplicationName ? ` (application_name ${clean(row.application_name)})` : ''
  return process !== undefined ? `${clean(process)} process${app}` : `session with the run's application_name${app}`
}

/** Each local port of a socket of `pids` to `serverPort`, with the name of the process holding it. */
function portOwners(pids: number[], serverPort: number): Map<number, string> {
  const owners = new Map<number, string>()
  for (const pid of pids) for (const port of localPortsTo([pid], serverPort)) owners.set(port, commOf(pid))
  return owners
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim().slice(0, 32) || `pid ${pid}`
  } catch {
    return `pid ${pid}`
  }
}
