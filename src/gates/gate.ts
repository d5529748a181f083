// One gate = one file implementing this interface. The engine runs gates in order and knows none
// of them by name; what a gate needs from the run (the probe, the ping, the database, the worker)
// comes through GateContext, whose facts are the narrow GateFacts (gates/facts.ts).
import type { GateId, GateStatus } from '../constants.js'
import { describeDbError, type Database } from '../db/database.js'
import type { GateResult } from '../report/model.js'
import type { Settings } from '../settings.js'
import type { GateFacts, WorkerNeed } from './facts.js'

export type { GateFacts, WorkerNeed } from './facts.js'

export interface GateOutcome {
  status: GateStatus
  evidence: string
  details?: string
}

export interface GateContext {
  settings: Settings
  facts: GateFacts
  /** Results of the gates that already ran, in order. */
  earlier: readonly GateResult[]
}

/** `Id` is a GateId for the action's gates; the engine runs any gate (its tests use others). */
export interface Gate<Id extends string = GateId> {
  id: Id
  title: string
  description: string
  /** A failure of a foundation gate fails the verdict. */
  foundation: boolean
  /** Gates whose failure (or skip) makes this one impossible to run: it is skipped with the reason. */
  needs: readonly Id[]
  /** What this gate needs the worker to do beyond answering the run's ping (see WorkerNeed). */
  needsFromWorker?: readonly WorkerNeed[]
  /** It judges the whole run (the tests included): it runs after the test reports were analysed. */
  judgesRun?: boolean
  run(ctx: GateContext): Promise<GateOutcome>
}

export const gateOutcome = (status: GateStatus, evidence: string, details?: string): GateOutcome =>
  details === undefined ? { status, evidence } : { status, evidence, details }

/**
 * Opens the connection a gate's SQL checks use (the action's own, unless `open` says otherwise).
 * A refusal becomes the gate's outcome: `skip` when `runtime` already showed that the database
 * refuses this DSN (one cause, reported once), `fail` naming what could not be checked otherwise.
 */
export async function connectForChecks(
  facts: GateFacts,
  toCheck: string,
  open: () => Promise<Database> = () => facts.database()
): Promise<{ db: Database } | { outcome: GateOutcome }> {
  try {
    return { db: await open() }
  } catch (err) {
    const blocked = await facts.sqlChecksBlocked()
    if (blocked) return { outcome: gateOutcome('skip', blocked) }
    return { outcome: gateOutcome('fail', `cannot connect ${toCheck}: ${facts.redact(describeDbError(err).message)}`) }
  }
}
