// The record of the database connections the worker's processes opened (connections.py writes one
// JSON line per connection into the run's folder). The worker runs untrusted code and may have
// written anything there, so the file is outside data: read within a size bound, without
// following a symlink or waiting on a FIFO, each line parsed and schema-checked, every text
// scrubbed, and only then aggregated into one identity per (role, where, source).
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { z } from 'zod'
import type { ConfiguredRecord } from './configured.js'

/** Connections file name inside the run's folder. */
export const CONNECTIONS_FILE = 'connections.jsonl'
/** Read at most this much of the file; a worker that wrote more is said to have. */
export const CONNECTIONS_MAX_BYTES = 1024 * 1024
const FIELD_MAX = 200
/** Distinct identities kept (each is a line of evidence at most). */
const IDENTITIES_MAX = 100

/** One database identity the worker used during the run, with where and how often. */
export interface ObservedIdentity {
  /** The role the connection was authenticated as (the driver's `info.user`). */
  role: string
  /** The module that opened it, or `broker` / `result backend` / `celery`; `unknown` if none. */
  where: string
  /** The driver or library that recorded it: psycopg, psycopg2, sqlalchemy. */
  source: string
  /** How many connections were opened with this (role, where, source). */
  count: number
  /** The application_name the server reported for the first of them. */
  applicationName?: string
}

export interface IdentityRecord {
  identities: ObservedIdentity[]
  /** Lines not understood (not JSON, not the schema): said in the evidence, never trusted. */
  rejected: number
  /** The file was bigger than CONNECTIONS_MAX_BYTES: only its start was read. */
  truncated: boolean
  /** No file at all: the hook did not run or saw no connection. */
  missing: boolean
  /** The identities the app configures (configured.ts), used during the run or not. */
  configured?: ConfiguredRecord
}

let schema: z.ZodType<{ role: string; source: string; where?: string | null; application_name?: string | null }> | undefined
function lineSchema() {
  schema ??= z.object({
    role: z.string().min(1).max(FIELD_MAX),
    source: z.enum(['psycopg', 'psycopg2', 'sqlalchemy']),
    where: z.string().max(FIELD_MAX).nullish(),
    application_name: z.string().max(FIELD_MAX).nullish()
  })
  return schema
}

/** Printable, short, scrubbed: a control character or a secret in the file must not reach the report. */
export function clean(text: string, redact: (t: string) => string): string {
  return redact(text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')).slice(0, FIELD_MAX)
}

/**
 * The non-empty lines of a record the worker's processes wrote (untrusted), each parsed as JSON and
 * checked against `schema`; a line that is not JSON or does not fit is counted, never shown.
 */
export function parseRecordLines<T>(text: string, schema: z.ZodType<T>): { lines: T[]; rejected: number } {
  const lines: T[] = []
  let rejected = 0
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue
    let value: unknown
    try {
      value = JSON.parse(raw)
    } catch {
      rejected++
      continue
    }
    const parsed = schema.safeParse(value)
    if (parsed.success) lines.push(parsed.data)
    else rejected++
  }
  return { lines, rejected }
}

/** Parses the file's text (its first CONNECTIONS_MAX_BYTES) into identities. */
export function parseConnections(text: string, redact: (t: string) => string): Omit<IdentityRecord, 'truncated' | 'missing'> {
  const byKey = new Map<string, ObservedIdentity>()
  const { lines, rejected: notUnderstood } = parseRecordLines(text, lineSchema())
  let rejected = notUnderstood
  for (const line of lines) {
    const role = clean(line.role, redact)
    const where = clean(line.where || 'unknown', redact)
    const source = line.source
    const key = JSON.stringify([role, where, source])
    const seen = byKey.get(key)
    if (seen) seen.count++
    else if (byKey.size < IDENTITIES_MAX) {
      const app = line.application_name
      byKey.set(key, { role, where, source, count: 1, ...(app ? { applicationName: clean(app, redact) } : {}) })
    } else rejected++
  }
  return { identities: [...byKey.values()], rejected }
}

/**
 * The first CONNECTIONS_MAX_BYTES of `file` (a path inside the run's folder) as text, without
 * following a symlink or waiting on a FIFO; a line cut by the bound is dropped. `undefined` text:
 * no file (missing) or not a regular file / unreadable (said as one rejected entry).
 */
export function readBounded(file: string): { text?: string; truncated: boolean; missing: boolean } {
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch {
    return { truncated: false, missing: true }
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) return { truncated: false, missing: false }
    const size = Math.min(stat.size, CONNECTIONS_MAX_BYTES)
    const buf = Buffer.alloc(size)
    let got = 0
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got)
      if (n <= 0) break
      got += n
    }
    let text = buf.subarray(0, got).toString('utf8')
    const truncated = stat.size > CONNECTIONS_MAX_BYTES
    // A line cut by the bound is not judged half-read.
    if (truncated) text = text.slice(0, Math.max(0, text.lastIndexOf('\n')))
    return { text, truncated, missing: false }
  } catch {
    return { truncated: false, missing: false }
  } finally {
    closeSync(fd)
  }
}

/** Reads the record from `file` (a path inside the run's folder), bounded; never throws. */
export function readConnections(file: string, redact: (t: string) => string): IdentityRecord {
  const { text, truncated, missing } = readBounded(file)
  if (text === undefined) return { identities: [], rejected: missing ? 0 : 1, truncated, missing }
  return { ...parseConnections(text, redact), truncated, missing }
}

/** "app.db via psycopg: 3 connections as postgres" */
export function describeIdentity(i: ObservedIdentity): string {
  return `${i.where} via ${i.source}: ${i.count} connection${i.count === 1 ? '' : 's'} as ${i.role}`
}
