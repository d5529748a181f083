// Which environment variables the worker's code read during the run (envreads.py appends one JSON
// line per variable and process into the run's folder: the name and the first reader, never a
// value). rls-role judges a DSN-shaped variable the app read like any configured identity, and only
// notes one the worker inherited but never read. Written by the worker's own process (untrusted
// code), so read like the connection record: bounded, no symlink, each line schema-checked.
import path from 'node:path'
import { z } from 'zod'
import { clean, parseRecordLines, readBounded } from './connections.js'

/** File name inside the run's folder (bootstrap.py has envreads.py write it beside the record). */
export const ENV_READS_FILE = 'env-reads.jsonl'
/** Distinct names kept; more means the record cannot say which were not read (see `complete`). */
const NAMES_MAX = 2000
/** What envreads.py writes (and configured.py shows in `env NAME`): a plain name. */
const NAME = /^[A-Za-z0-9_.-]{1,64}$/

export interface EnvReads {
  /** Name → the first reader outside `os` (`module:line`), for each variable the app's code read. */
  read: Map<string, string>
  rejected: number
  truncated: boolean
  missing: boolean
  /** A process read more names than envreads.py writes: the rest are not known. */
  overflow: boolean
}

const lineSchema = z.union([
  z.object({ name: z.string().regex(NAME), by: z.string().max(200).nullish(), pid: z.number().int().nullish() }),
  z.object({ overflow: z.literal(true), pid: z.number().int().nullish() })
])

/** Parses envreads.py's lines; the first reader of a name is kept. */
export function parseEnvReads(body: string, redact: (t: string) => string): Pick<EnvReads, 'read' | 'rejected' | 'overflow'> {
  const read = new Map<string, string>()
  const { lines, rejected } = parseRecordLines(body, lineSchema)
  let overflow = false
  for (const line of lines) {
    if ('overflow' in line) overflow = true
    else if (read.has(line.name)) continue
    else if (read.size < NAMES_MAX) read.set(line.name, clean(line.by || 'unknown', redact))
    else overflow = true
  }
  return { read, rejected, overflow }
}

/** Reads the record beside the connection record `connectionsFile`; never throws. */
export function readEnvReads(connectionsFile: string, redact: (t: string) => string): EnvReads {
  const { text, truncated, missing } = readBounded(path.join(path.dirname(connectionsFile), ENV_READS_FILE))
  if (text === undefined) return { read: new Map(), rejected: missing ? 0 : 1, truncated, missing, overflow: false }
  return { ...parseEnvReads(text, redact), truncated, missing }
}

/**
 * Whether the record can tell an unread variable: not missing, not cut, every line understood. A
 * name lost in a cut or a garbled line may be one the app read, so then every variable counts as read.
 */
export function complete(reads: EnvReads | undefined): reads is EnvReads {
  return !!reads && !reads.missing && !reads.truncated && !reads.rejected && !reads.overflow
}

/** The environment variable a configured identity came from (configured.py's `env NAME`, `env NAME[key]` for JSON in it), if a plain name. */
export function envNameOf(where: string): string | undefined {
  const name = where.startsWith('env ') ? where.slice(4).replace(/\[.*$/, '') : undefined
  return name !== undefined && NAME.test(name) ? name : undefined
}

/** Why the record cannot tell (for the gate's evidence). */
export function incompleteReason(reads: EnvReads | undefined): string {
  if (!reads || reads.missing) return 'the worker left no record'
  if (reads.truncated) return 'the record was cut at its size bound'
  if (reads.overflow) return 'more names were read than the record keeps'
  return `${reads.rejected} entries of the record were not understood`
}
