import { LOG_SETTLE_MS as SETTLE_MS } from '../timing.js'
import { gateOutcome, type Gate } from './gate.js'

/** Common spellings of the fields structured loggers write (python-json-logger, structlog, …). */
const ALIASES: Record<string, string[]> = {
  level: ['level', 'levelname', 'severity', 'log.level'],
  logger: ['logger', 'name', 'logger_name', 'log.logger'],
  message: ['message', 'msg', 'event'],
  task_name: ['task_name', 'task', 'celery.task_name']
}
/**
 * A log record in Celery's default plain format (`[2026-11-26 01:42:52,784: INFO/MainProcess] …`).
 * Lines that are neither this nor JSON — a print(), a banner — are not log records and not judged.
 */
const PLAIN_RECORD = /^\[\d{4}-\d\d-\d\d[ T][\d:,.]+: \w+\/[\w.-]+\]/

export const logsGate: Gate = {
  id: 'logs',
  title: 'Logs',
  description: "The worker's log lines while it handled the ping are structured: JSON with a level, a logger, a message, and the task name on task events",
  foundation: true,
  needs: ['runtime'],
  async run({ settings, facts }) {
    const ping = await facts.ping()
    // Counted from the pong, not from now: by the time this gate runs (after queues and tasks) the
    // window has usually passed, and the step's wall time is not paid twice.
    // pongAtMs is on the worker's clock (ms since it was spawned).
    const now = facts.lines.elapsedMs()
    const settled = 'pongAtMs' in ping && now !== undefined ? ping.pongAtMs + SETTLE_MS - now : SETTLE_MS
    if (settled > 0) await new Promise((r) => setTimeout(r, settled))
    const parsed = facts.lines.sinceReady.map((l) => ({ line: l.line, record: asRecord(l.line) })).filter((p) => p.record || PLAIN_RECORD.test(p.line))
    const lines = parsed.map((p) => p.line)
    if (!lines.length) return gateOutcome('warn', 'the worker wrote no log record while it handled the ping (is its loglevel above INFO?)')
    const json = parsed.filter((p) => p.record)
    if (!json.length)
      return gateOutcome(
        'warn',
        `the worker logs plain text, e.g. ${quote(lines[0] as string)}\nstructured (JSON) logs carry ${settings.logFields.join(', ')} and the task name as fields — what this gate, and log search, can rely on`
      )
    const problems: string[] = []
    const plain = parsed.filter((p) => !p.record)
    if (plain.length) problems.push(`${plain.length} of ${lines.length} lines are not JSON, e.g. ${quote(plain[0]?.line as string)}`)
    for (const field of settings.logFields) {
      const without = json.filter((p) => !has(p.record as Record<string, unknown>, field))
      if (without.length) problems.push(`${without.length} of ${json.length} JSON lines have no \`${field}\`, e.g. ${quote(without[0]?.line as string)}`)
    }
    // Task events: the lines about the run's own ping must name the task.
    const taskLines = json.filter((p) => p.line.includes(facts.ids.taskId))
    const unnamed = taskLines.filter((p) => !has(p.record as Record<string, unknown>, 'task_name'))
    if (unnamed.length)
      problems.push(`${unnamed.length} of ${taskLines.length} lines about the ping carry no task name (task_name), e.g. ${quote(unnamed[0]?.line as string)}`)
    const summary = `${json.length} log lines while the worker handled the ping, all JSON with ${settings.logFields.join(', ')}; ${taskLines.length} about the ping name its task`
    return problems.length ? gateOutcome('fail', problems.join('\n')) : gateOutcome('pass', summary)
  }
}

function asRecord(line: string): Record<string, unknown> | undefined {
  const text = line.trim()
  if (!text.startsWith('{')) return undefined
  try {
    const value = JSON.parse(text) as unknown
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** Whether a record carries a field (under one of its usual names), non-empty. */
function has(record: Record<string, unknown>, field: string): boolean {
  return (ALIASES[field] ?? [field]).some((name) => {
    const value = name.includes('.') ? name.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], record) : record[name]
    return value !== undefined && value !== null && value !== ''
  })
}

function quote(line: string): string {
  const t = line.trim()
  return `\`${t.length > 120 ? `${t.slice(0, 119)}…` : t}\``
}
