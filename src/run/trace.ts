// What one run leaves in the database and how it is removed: the run's ping and queue pings, its
// queue (and, on PGMQ, the worker's pidbox queue), its result rows and the dead-letter row of the
// dlq probe task — each through the data plane's removeTrace, so the run knows no transport.
import { classifyDataPlane } from '../celery/data-plane.js'
import type { ProbeOutcome } from '../celery/probe.js'
import { resolveTable } from '../db/catalog.js'
import type { Database } from '../db/database.js'
import type { RunIds } from '../gates/facts.js'
import { planeOf, type Sent, type TraceCleanup } from '../planes/index.js'
import type { Settings } from '../settings.js'

export interface RunTraceSource {
  probe: ProbeOutcome | undefined
  settings: Settings
  ids: RunIds
  /** The messages the run put into the app's queues. */
  sent: Sent[]
}

/** Removes the run's trace; the detail may quote the database (the caller redacts it). */
export async function removeRunTrace(db: Database, run: RunTraceSource, opts: { keepQueue?: boolean } = {}): Promise<TraceCleanup> {
  const outcome = run.probe
  if (!outcome?.ok) return { removed: true, detail: 'nothing to remove: no ping was published' }
  const extras = outcome.probe.extra_payloads ?? []
  // The dead-letter row the probe task left, in the table PostgreSQL resolves the name to (a
  // user's input is never spliced into SQL as written).
  const probeId = extras.find((x) => x.purpose === 'probe')?.taskId
  const dlq = run.settings.dlqTable && probeId ? await resolveTable(db, run.settings.dlqTable).catch(() => undefined) : undefined
  const plane = classifyDataPlane(outcome.probe, run.ids)
  return planeOf(plane.ok ? plane.plane.kind : 'sqla').removeTrace(
    db,
    {
      probe: outcome.probe,
      queue: run.ids.queue,
      nodeName: run.ids.nodeName,
      applicationName: run.ids.applicationName,
      sent: run.sent,
      taskIds: [run.ids.taskId, ...extras.map((x) => x.taskId)],
      ...(dlq && probeId ? { deadLetter: { table: dlq, taskId: probeId } } : {})
    },
    opts
  )
}
