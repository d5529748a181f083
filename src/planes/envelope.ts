// What kombu's PGMQ transport (kombu/transport/pgmq.py, kombu 5.7) does with a message and a
// queue name, transcribed so the run publishes exactly as a producer of the app would:
// - queue names: `entity_name(queue_name_prefix + name)`, every ASCII punctuation character but
//   `_` replaced by `_` (`cfg-1a2b3c4d.ping` -> `cfg_1a2b3c4d_ping`);
// - `_put`: `pgmq.send(queue_name, message, **_pgmq_send_kwargs(message))`, the message being the
//   virtual transport's envelope (body, content-encoding, content-type, headers, properties) as
//   JSONB, `headers` the envelope's headers (plus properties.MessageGroupId) when there are any,
//   `delay` properties.DelaySeconds when positive.

/** PGMQ's longest queue name (pgmq.validate_queue_name: 63-character identifiers less 16). */
export const PGMQ_MAX_QUEUE_NAME = 47

/** Python's string.punctuation without `_`: what kombu's CHARS_REPLACE_TABLE maps to `_`. */
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^`{|}~]/g

export function pgmqQueueName(prefix: string, queue: string): string {
  return `${prefix}${queue}`.replace(PUNCTUATION, '_')
}

/** The pidbox queue a worker node declares for remote control (kombu's Mailbox: `<node>.celery.pidbox`). */
export function pidboxQueue(prefix: string, nodeName: string): string {
  return pgmqQueueName(prefix, `${nodeName}.celery.pidbox`)
}

export interface SendArgs {
  /** JSON of the headers argument, when kombu passes one. */
  headers?: string
  /** Seconds, when kombu passes a delay. */
  delay?: number
}

/** kombu's `_pgmq_send_kwargs` for the envelope `payload` (JSON text Celery built). */
export function pgmqSendArgs(payload: string): SendArgs {
  const message = JSON.parse(payload) as { headers?: Record<string, unknown> | null; properties?: Record<string, unknown> | null }
  const headers: Record<string, unknown> = { ...(message.headers ?? {}) }
  const properties = message.properties ?? {}
  if ('MessageGroupId' in properties && !('MessageGroupId' in headers)) headers.MessageGroupId = properties.MessageGroupId
  const args: SendArgs = {}
  if (Object.keys(headers).length) args.headers = JSON.stringify(headers)
  if ('DelaySeconds' in properties) {
    // int() of a number or numeric string; anything else is 0 (kombu's except branch).
    const raw = properties.DelaySeconds
    const n = typeof raw === 'number' ? Math.trunc(raw) : typeof raw === 'string' && /^\s*[+-]?\d+\s*$/.test(raw) ? Number.parseInt(raw, 10) : 0
    const delay = Math.max(0, Number.isFinite(n) ? n : 0)
    if (delay) args.delay = delay
  }
  return args
}
