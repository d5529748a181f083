// The bootstrap's report, read from the worker's fd 3: one JSON line saying whether the app
// imported and how Celery is configured (see bootstrap.py). The line comes from code the pull
// request controls, so every URL and password in it is registered as a secret before anything
// else reads it, and a line of the wrong shape is refused rather than trusted.
import { registerSecretsInText, type SecretRegistry } from '../secrets.js'
import { parseDsn } from '../db/dsn.js'
import { parseBootstrapEvent, type BootstrapEvent } from './probe.js'

export type BootReport = BootstrapEvent | { event: 'no-event'; reason: string }

/**
 * The first line on `channel`, parsed; or why there was none. `exited` resolves, with a sentence
 * saying how, when the worker exits: a report written just before is still given a moment.
 */
export function readBootReport(channel: NodeJS.ReadableStream | null, exited: Promise<string>, secrets: SecretRegistry): Promise<BootReport> {
  return new Promise((resolve) => {
    if (!channel) {
      resolve({ event: 'no-event', reason: 'no event channel' })
      return
    }
    let buffer = ''
    let settled = false
    const settle = (value: BootReport): void => {
      if (settled) return
      settled = true
      resolve(value)
    }
    channel.setEncoding('utf8')
    channel.on('data', (chunk: string) => {
      buffer += chunk
      const nl = buffer.indexOf('\n')
      if (nl < 0) return
      settle(parseBootReport(buffer.slice(0, nl), secrets))
    })
    channel.on('error', () => {})
    channel.on('close', () => settle({ event: 'no-event', reason: 'the bootstrap closed its event channel without a report' }))
    void exited.then((how) =>
      // Give the channel a moment to deliver a report written just before exit.
      setTimeout(() => settle({ event: 'no-event', reason: how }), 50)
    )
  })
}

function parseBootReport(line: string, secrets: SecretRegistry): BootReport {
  let raw: unknown
  try {
    raw = JSON.parse(line)
  } catch {
    return { event: 'no-event', reason: 'the bootstrap wrote something that is not JSON' }
  }
  // Register every URL and password the event carries before anything reads it.
  collectSecrets(raw, secrets)
  const parsed = parseBootstrapEvent(raw)
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') ?? '?'
    return { event: 'no-event', reason: `the bootstrap's report has an unexpected shape at ${where}` }
  }
  return parsed.data
}

/** Registers every password and every URL carrying credentials found in a bootstrap event. */
function collectSecrets(value: unknown, secrets: SecretRegistry, key = ''): void {
  if (typeof value === 'string') {
    if (key === 'password') secrets.add(value)
    else if ((key === 'url' || key === 'urls') && value.includes('@')) {
      secrets.addExact(value)
      secrets.add(parseDsn(value)?.password)
    } else {
      // An import error's message or traceback may quote a DSN the environment did not hold
      // (built in code): registered here, it is masked before the evidence is printed.
      registerSecretsInText(value, secrets)
    }
    return
  }
  if (Array.isArray(value)) for (const v of value) collectSecrets(v, secrets, key)
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) collectSecrets(v, secrets, k)
}
