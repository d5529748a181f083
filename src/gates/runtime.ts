import { addColumnsStatement } from '../celery/drift.js'
import type { PingOutcome } from '../celery/ping.js'
import type { ProbeReport } from '../celery/probe.js'
import { planeOf } from '../planes/index.js'
import { expandLogLine, summarizeLogLine } from '../celery/worker-output.js'
import { describeExit } from '../celery/worker-process.js'
import type { GateFacts } from './facts.js'
import { gateOutcome, type Gate, type GateOutcome } from './gate.js'

export const runtimeGate: Gate = {
  id: 'runtime',
  title: 'Runtime',
  description: 'The booted worker answers a ping sent through the Postgres broker, with the result read back from the result backend',
  foundation: true,
  needs: ['broker-config'],
  async run({ settings, facts }) {
    const outcome = await facts.ping()
    if (outcome.kind === 'result-store') {
      const probe = await facts.probe()
      return resultStoreOutcome(outcome, probe.ok ? probe.probe : undefined, facts)
    }
    return judge(outcome, facts, settings.pingTask, await transportQueue(facts))
  }
}

/** The run's queue as the transport names it, when that differs (PGMQ: `cfg_1a2b3c4d_ping`). */
async function transportQueue(facts: GateFacts): Promise<string | undefined> {
  const [probe, check] = [await facts.probe(), await facts.dataPlane()]
  if (!probe.ok || !check?.ok) return undefined
  const name = planeOf(check.plane.kind).queueName(probe.probe, facts.ids.queue)
  return name === facts.ids.queue ? undefined : `${check.plane.kind.toUpperCase()} queue \`${name}\``
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`

function judge(o: PingOutcome, facts: GateFacts, task: string, transportQueue?: string): GateOutcome {
  // The details: the line that decided, in full (its traceback unfolded), then the last lines.
  const tail = (line?: string): string =>
    [...(line ? [expandLogLine(line), ''] : []), 'Last lines of the worker:', ...facts.lines.lastLines(15).map((l) => summarizeLogLine(l))].join('\n')
  switch (o.kind) {
    case 'pong': {
      const ready = facts.lines.ready
      // Just `node ready.`, whatever the log format around it (plain text, JSON …).
      const readyText = ready ? `\`${facts.ids.nodeName} ready.\`` : `no ready line (worker loglevel ${facts.lines.loglevel})`
      const after = ready ? `${Math.max(0, Math.round(o.pongAtMs - ready.atMs))} ms after ready, ` : ''
      // A row the action cannot read is a finding whatever the task: anyone with INSERT on the
      // result table can write the row of this task id.
      const unreadable = o.result.encoding === 'undecodable'
      const unexpected = unreadable || (task === 'celery.ping' && o.result.value !== 'pong')
      return gateOutcome(
        unexpected ? 'warn' : 'pass',
        `${readyText}\n${task} answered ${o.result.display} ${after}${seconds(o.pongAtMs)} after the worker started` +
          `\nqueue \`${facts.ids.queue}\`${transportQueue ? ` (${transportQueue})` : ''}, task id \`${facts.ids.taskId}\`` +
          (unreadable ? '\nthe result row could not be read safely: check who else writes the result table' : unexpected ? "\nexpected the result 'pong'" : '')
      )
    }
    case 'task-failed':
      return gateOutcome('fail', `the worker ran ${task} and it failed: ${facts.redact(o.error)}`, facts.redact(o.traceback ?? tail()))
    case 'db-refused':
      return gateOutcome(
        'fail',
        `the database refused the worker's connection: ${facts.redact(o.reason)}` +
          (o.line ? `\nworker: ${shorten(o.line)}` : `\n(seen by the action connecting with the worker's broker DSN)`) +
          "\ncheck the user, password, host and database in the app's broker URL, and that the server accepts this runner's connections",
        tail(o.line)
      )
    case 'db-denied':
      return gateOutcome('fail', `the worker's role was denied on ${o.object}\n${shorten(o.line)}`, tail(o.line))
    case 'worker-exited': {
      // Celery's command line (click) exits 2 with `Error: …` when it rejects an option.
      const rejected = o.exit.code === 2 && o.line && /^(Error: (No such option|Invalid value|Got unexpected|Missing)|Usage:)/.test(o.line.trim())
      if (rejected) return gateOutcome('fail', `the worker rejected its arguments: check the worker-args input\n${shorten(o.line as string)}`, tail(o.line))
      const zero = o.exit.code === 0 && !o.exit.spawnError ? ' (Celery 5.2 exits 0 even on fatal errors)' : ''
      const db = o.dbError ? `\nthe database was not answering the action either: ${facts.redact(o.dbError)}` : ''
      return gateOutcome('fail', `${describeExit(o.exit)} before answering the ping${zero}${o.line ? `\n${shorten(o.line)}` : ''}${db}`, tail(o.line))
    }
    case 'publish-failed':
      return gateOutcome('fail', `the ping could not be published into the broker tables: ${facts.redact(o.reason)}`, tail())
    case 'db-lost':
      return gateOutcome(
        'fail',
        `the database stopped answering while the worker had the ping: ${facts.redact(o.reason)}\ncheck that the database service stays up for the whole job`,
        tail()
      )
    case 'no-result':
      return gateOutcome(
        'fail',
        `the worker ran ${task} but no result row appeared in the result backend (task_ignore_result set?)\n${shorten(o.line)}`,
        tail(o.line)
      )
    case 'timeout':
      return gateOutcome('fail', `${o.detail}\nlast line: ${shorten(facts.lines.lastLines(1)[0] ?? '(none)')}`, tail())
    case 'result-store':
      return resultStoreOutcome(o, undefined, facts)
    case 'not-run':
      return gateOutcome('fail', o.reason)
    case 'cancelled':
      return gateOutcome('skip', 'cancelled while waiting for the worker to answer')
  }
}

const shorten = (line: string): string => summarizeLogLine(line)

/** Celery's boot WARNING, its two telling parts: the column it could not add, and why. */
function bootWarning(line: string): string {
  const what = /Failed to add missing column '[\w$]+' to table '[\w$.]+'/.exec(line)?.[0]
  const why = /must be owner of (?:table|relation) [\w$.]+|permission denied[^"\\\n]{0,80}/.exec(line)?.[0]
  return what ? `${what}${why ? ` (${why})` : ''}` : shorten(line)
}

/**
 * The worker cannot store (or read) results: the cause in its words, and the fix. A column the
 * installed Celery's model has and the table lacks (tables made by an older Celery, a role that
 * does not own them so Celery could not add it) is added by the table's owner.
 */
function resultStoreOutcome(o: Extract<PingOutcome, { kind: 'result-store' }>, probe: ProbeReport | undefined, facts: GateFacts): GateOutcome {
  const tail = ['', 'Last lines of the worker:', ...facts.lines.lastLines(15).map((l) => summarizeLogLine(l))]
  const details = [expandLogLine(o.line), ...(o.warning ? ['', expandLogLine(o.warning)] : []), ...tail].join('\n')
  const lines = [`the worker cannot store or read results in ${o.table}: ${facts.redact(o.cause)}`]
  if (o.warning) lines.push(`at boot: ${facts.redact(bootWarning(o.warning))}`)
  if (o.columns.length) {
    const t = probe?.tables
    const model = o.table === t?.task ? probe?.drift?.result_tables?.task : o.table === t?.group ? probe?.drift?.result_tables?.group : undefined
    const schema = o.table === t?.task ? t.task_schema : o.table === t?.group ? t.group_schema : undefined
    const celery = probe?.versions.celery ? `Celery ${probe.versions.celery}` : 'the installed Celery'
    lines.push(
      `${o.table} lacks ${o.columns.map((c) => `\`${c}\``).join(', ')}, which ${celery}'s result model has; the worker's role cannot add ${o.columns.length > 1 ? 'them' : 'it'} (not the table's owner)`,
      `fix: the table's owner runs \`${addColumnsStatement(o.table, schema, model, o.columns)}\``
    )
  } else lines.push("check that the result tables match the installed Celery (db-access compares them) and that the worker's role may write them")
  return gateOutcome('fail', lines.join('\n'), details)
}
