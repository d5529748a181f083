// The names one run uses (its node, its queue, its ping's task id, its database sessions'
// application_name), each unique to the run: nothing it leaves behind is mistaken for another's.
import { randomBytes, randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { RunIds } from '../gates/facts.js'

export function newRunIds(): RunIds {
  const runId = `cfg-${randomBytes(4).toString('hex')}`
  return {
    runId,
    nodeName: `${runId}@${hostname()}`,
    queue: `${runId}.ping`,
    taskId: randomUUID(),
    applicationName: runId
  }
}
