import type { ExtraResult } from './facts.js'
import { gateOutcome, type Gate } from './gate.js'

export const queuesGate: Gate = {
  id: 'queues',
  title: 'Queues',
  description: 'Every queue the app routes tasks to is consumed by the booted worker: a ping through each comes back',
  foundation: true,
  needs: ['runtime'],
  // The worker consumes the app's queues, and a ping goes through each.
  needsFromWorker: ['app-queues'],
  async run({ facts }) {
    const outcome = await facts.probe()
    if (!outcome.ok) return gateOutcome('fail', 'the app did not import')
    const probe = outcome.probe
    const routes = probe.routes ?? {}
    // The worker's own word (its banner) when it printed one; else the -Q it was started with.
    const bannerQueues = facts.lines.bannerQueues
    const consumed = new Set(bannerQueues.length ? bannerQueues : (probe.consumed_queues ?? []))
    const ownQueue = facts.ids.queue
    const appQueues = [...new Set([...(probe.default_consumed_queues ?? []), ...Object.keys(routes)])].filter((q) => q !== ownQueue).sort()
    const extras = new Map((await facts.extras()).filter((x) => x.purpose === 'queue').map((x) => [x.queue, x]))
    const listTasks = (q: string): string => {
      const tasks = routes[q] ?? []
      return tasks.length ? `${tasks.slice(0, 5).join(', ')}${tasks.length > 5 ? ` and ${tasks.length - 5} more` : ''}` : 'no task'
    }
    const problems: string[] = []
    const fine: string[] = []
    for (const q of appQueues) {
      const ping = extras.get(q)
      if (!consumed.has(q))
        problems.push(
          `queue \`${q}\` is not consumed by the booted worker (it consumes ${[...consumed].filter((c) => c !== ownQueue).join(', ') || "none of the app's queues"}); routed there: ${listTasks(q)} — add it to task_queues or to the worker's -Q`
        )
      else if (!answered(ping))
        problems.push(
          `the ping routed through \`${q}\` did not come back${ping?.error ? `: ${ping.error}` : ' within a few broker polls'} (routed there: ${listTasks(q)})`
        )
      else fine.push(`\`${q}\` (${(routes[q] ?? []).length} task${(routes[q] ?? []).length === 1 ? '' : 's'}${byOther(ping, facts.ids.nodeName)})`)
    }
    for (const [task, error] of Object.entries(probe.route_errors ?? {})) problems.push(`routing ${task} raised: ${error}`)
    if (!appQueues.length) return gateOutcome('warn', "the app routes no task to any queue but the run's own: nothing to check")
    const summary = `${fine.length} of ${appQueues.length} queues answered a ping: ${fine.join(', ') || 'none'}`
    return problems.length ? gateOutcome('fail', [...problems, summary].join('\n')) : gateOutcome('pass', summary)
  }
}

function answered(ping: ExtraResult | undefined): boolean {
  return !!ping && ping.status === 'SUCCESS'
}

function byOther(ping: ExtraResult | undefined, node: string): string {
  // With result_extended, the result row names the node: another worker on the same database
  // may have taken it, which still proves the queue is consumed.
  return ping?.worker && ping.worker !== node ? `, answered by ${ping.worker}` : ''
}
