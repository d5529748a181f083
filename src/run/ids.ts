// The names one run uses (its node, its queue, its ping's task id, its database sessions'
// application_name), each unique to the run: nothing it leaves behind is mistaken for another's.
import { randomBytes, randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { RunIds } from '../gates/facts.js'
import { PGMQ_MAX_QUEUE_NAME, pidboxQueue } from '../planes/envelope.js'

export function newRunIds(host = hostname()): RunIds {
  const runId = `cfg-${randomBytes(4).toString('hex')}`
  return {
    runId,
    nodeName: `${runId}@${nodeHost(runId, host)}`,
    queue: `${runId}.ping`,
    taskId: randomUUID(),
    applicationName: runId
  }
}

/**
 * The host part of the worker's node name. On PGMQ every node declares its pidbox queue
 * `<node>.celery.pidbox`, and PGMQ refuses queue names over 47 characters: the worker dies at boot
 * (`queue name is too long`) with a runner's FQDN or a Kubernetes pod name. The node name is
 * chosen before the worker reports its broker (it is on the worker's command line), so a host that
 * would not fit is shortened whatever the transport — first to its first label, then cut — while
 * a host that fits (a GitHub-hosted runner's) stays as it is. The run id keeps the name unique.
 */
export function nodeHost(runId: string, host: string): string {
  const fits = (h: string): boolean => pidboxQueue('', `${runId}@${h}`).length <= PGMQ_MAX_QUEUE_NAME
  if (fits(host)) return host
  const label = host.split('.')[0] || 'host'
  if (fits(label)) return label
  const room = PGMQ_MAX_QUEUE_NAME - pidboxQueue('', `${runId}@`).length
  return label.slice(0, Math.max(1, room))
}
