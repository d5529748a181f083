// The `result` column of celery_taskmeta is a pickle on Celery 5.2 (SQLAlchemy PickleType) and
// serializer-encoded bytes (JSON by default) on newer Celery — both seen on real workers. We
// decode either for the evidence line, never executing anything: pickleparser only reads.
import { Parser } from 'pickleparser'

export interface DecodedResult {
  /** The value as JavaScript data, when it could be decoded. */
  value?: unknown
  /** How it was stored: `pickle`, `json`, or `bytes` when neither decoder applied. */
  encoding: 'pickle' | 'json' | 'bytes' | 'none'
  /** A short, printable rendering for evidence lines. */
  display: string
}

const MAX_DISPLAY = 200

export function decodeResult(raw: Buffer | null | undefined): DecodedResult {
  if (!raw || raw.length === 0) return { encoding: 'none', display: '(no result)' }
  // Pickle protocol 2+ starts with PROTO (0x80).
  if (raw[0] === 0x80) {
    try {
      const value = new Parser().parse(raw)
      return { value, encoding: 'pickle', display: show(value) }
    } catch {
      // Fall through to the generic rendering.
    }
  }
  try {
    const value = JSON.parse(raw.toString('utf8')) as unknown
    return { value, encoding: 'json', display: show(value) }
  } catch {
    return { encoding: 'bytes', display: `${raw.length} bytes (${raw.subarray(0, 16).toString('hex')}…)` }
  }
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : safeJson(value)
  return text.length > MAX_DISPLAY ? `${text.slice(0, MAX_DISPLAY - 1)}…` : text
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value)
  } catch {
    return String(value)
  }
}

/** A failed task's stored exception, as `Type('message')`, from Celery's {exc_type, exc_message}. */
export function describeStoredException(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined
  const v = value as { exc_type?: unknown; exc_message?: unknown }
  if (typeof v.exc_type !== 'string') return undefined
  const msg = Array.isArray(v.exc_message) ? v.exc_message.map(String).join(', ') : String(v.exc_message ?? '')
  return `${v.exc_type}(${JSON.stringify(msg)})`
}
