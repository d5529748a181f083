// The `result` column of celery_taskmeta is a pickle on Celery 5.2 (SQLAlchemy PickleType) and
// serializer-encoded bytes (JSON by default) on newer Celery — both seen on real workers. We
// decode either for the evidence line, never executing anything.
//
// The row is outside input: anyone with INSERT on the table can write the one the action reads.
// So every step is bounded: the caller fetches at most MAX_RESULT_BYTES (and says how big the
// value really is), the pickle reader has its own limits (pickle-reader.ts), JSON is checked for
// depth before JSON.parse, and the display walks the value with a character budget — a few
// hundred bytes of pickle can share one list 2^47 times, and rendering that in full never ends.
// A value that fails any of these is `undecodable` with the reason: a finding, never a hang.
import { PICKLE_LIMITS, PyGlobal, PyObject, readPickle, UndecodablePickle } from './pickle-reader.js'

export interface DecodedResult {
  /** The value as JavaScript data, when it could be decoded. */
  value?: unknown
  /**
   * How it was stored: `pickle`, `json`, `bytes` when neither applies (another serializer), or
   * `undecodable` when it looked like a pickle or JSON but broke a rule or a limit.
   */
  encoding: 'pickle' | 'json' | 'bytes' | 'none' | 'undecodable'
  /** A short, printable rendering for evidence lines. */
  display: string
}

/** The most of the result column the action reads (ping.ts fetches only this prefix). */
export const MAX_RESULT_BYTES = 1024 * 1024
/** Nesting allowed in a JSON result (JSON.parse and every reader after it recurse). */
export const MAX_JSON_DEPTH = PICKLE_LIMITS.maxDepth
const MAX_DISPLAY = 200

/**
 * Decodes a stored result. `size` is the column's full length when `raw` is only its first bytes:
 * a value over MAX_RESULT_BYTES is not decoded at all (its prefix would not parse anyway).
 */
export function decodeResult(raw: Buffer | null | undefined, size = raw?.length ?? 0): DecodedResult {
  if (!raw || raw.length === 0) return { encoding: 'none', display: '(no result)' }
  if (size > MAX_RESULT_BYTES || raw.length > MAX_RESULT_BYTES)
    return undecodable(`${Math.max(size, raw.length)} bytes, over the ${MAX_RESULT_BYTES / 1024 / 1024} MiB the action reads`, raw, size)
  // Pickle protocol 2+ starts with PROTO (0x80); JSON never does (it is text).
  if (raw[0] === 0x80) {
    try {
      const value = readPickle(raw)
      return { value, encoding: 'pickle', display: show(value) }
    } catch (error) {
      if (error instanceof UndecodablePickle) return undecodable(`pickle: ${error.message}`, raw, size)
      return undecodable(`pickle: ${error instanceof Error ? error.message : String(error)}`, raw, size)
    }
  }
  const text = raw.toString('utf8')
  const depth = jsonDepth(text)
  if (depth > MAX_JSON_DEPTH) return undecodable(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`, raw, size)
  try {
    const value = JSON.parse(text) as unknown
    return { value, encoding: 'json', display: show(value) }
  } catch {
    return { encoding: 'bytes', display: describeBytes(raw, size) }
  }
}

function undecodable(reason: string, raw: Buffer, size: number): DecodedResult {
  return { encoding: 'undecodable', display: `undecodable result (${reason}): ${describeBytes(raw, size)}` }
}

function describeBytes(raw: Buffer, size: number): string {
  return `${Math.max(size, raw.length)} bytes (${raw.subarray(0, 16).toString('hex')}…)`
}

/** The deepest bracket nesting outside strings: one pass, no allocation. */
function jsonDepth(text: string): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth)
    else if (c === 0x5d || c === 0x7d) depth--
  }
  return deepest
}

/** The rendering for evidence: a top-level string in quotes, anything else as compact JSON-like text. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? `'${escapeControls(value.slice(0, MAX_DISPLAY))}'` : render(value, MAX_DISPLAY + 1)
  return text.length > MAX_DISPLAY ? `${text.slice(0, MAX_DISPLAY - 1)}…` : text
}

/**
 * Compact JSON-like text of `value`, stopping once `budget` characters are written: every node
 * visited writes at least one character, so the walk costs O(budget) whatever the value shares.
 * A container already open above (a cycle) is written `[…]` / `{…}`.
 */
export function render(value: unknown, budget: number): string {
  const out: string[] = []
  let used = 0
  const open = new Set<object>()
  const write = (piece: string): boolean => {
    out.push(piece)
    used += piece.length
    return used < budget
  }
  const walk = (v: unknown): boolean => {
    if (v === null || v === undefined) return write('null')
    if (typeof v === 'string') return write(JSON.stringify(v.length > budget ? v.slice(0, budget) : v))
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return write(String(v))
    if (Buffer.isBuffer(v)) return write(`b'${v.subarray(0, Math.min(v.length, budget)).toString('hex')}'`)
    if (v instanceof PyGlobal) return write(v.name)
    if (typeof v !== 'object') return write(`<${typeof v}>`)
    if (open.has(v)) return write(Array.isArray(v) ? '[…]' : '{…}')
    open.add(v)
    try {
      if (v instanceof PyObject) {
        if (!write(`${v.type}(`)) return false
        if (!items(v.args)) return false
        return write(')')
      }
      if (Array.isArray(v)) {
        if (!write('[')) return false
        if (!items(v)) return false
        return write(']')
      }
      if (!write('{')) return false
      let first = true
      for (const key in v) {
        if (!Object.prototype.hasOwnProperty.call(v, key)) continue
        if (!first && !write(',')) return false
        first = false
        if (!write(`${JSON.stringify(key.length > budget ? key.slice(0, budget) : key)}:`)) return false
        if (!walk((v as Record<string, unknown>)[key])) return false
      }
      return write('}')
    } finally {
      open.delete(v)
    }
  }
  const items = (list: unknown[]): boolean => {
    for (let i = 0; i < list.length; i++) {
      if (i > 0 && !write(',')) return false
      if (!walk(list[i])) return false
    }
    return true
  }
  walk(value)
  return out.join('').slice(0, budget)
}

function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1))
}

/** A failed task's stored exception, as `Type('message')`, from Celery's {exc_type, exc_message}. */
export function describeStoredException(value: unknown): string | undefined {
  // result_serializer='pickle' stores the exception object itself: pickled, it is a call of its class.
  if (value instanceof PyObject) {
    const type = value.type.split('.').pop() ?? value.type
    return `${type}(${JSON.stringify(joined(value.args))})`
  }
  if (!value || typeof value !== 'object') return undefined
  const v = value as { exc_type?: unknown; exc_message?: unknown }
  if (typeof v.exc_type !== 'string') return undefined
  const msg = Array.isArray(v.exc_message) ? joined(v.exc_message) : plain(v.exc_message ?? '')
  return `${v.exc_type.slice(0, MAX_DISPLAY)}(${JSON.stringify(msg)})`
}

/** The arguments as `a, b`, bounded like every other rendering (they may share or nest without end). */
function joined(args: unknown[]): string {
  const parts: string[] = []
  let used = 0
  for (const arg of args) {
    if (used > MAX_DISPLAY) break
    const part = plain(arg)
    parts.push(part)
    used += part.length + 2
  }
  const text = parts.join(', ')
  return text.length > MAX_DISPLAY ? `${text.slice(0, MAX_DISPLAY - 1)}…` : text
}

function plain(value: unknown): string {
  return typeof value === 'string' ? value.slice(0, MAX_DISPLAY + 1) : render(value, MAX_DISPLAY + 1)
}
