// One gate = one file implementing this interface. The engine runs gates in order and knows none
// of them by name; what a gate needs from the run (the probe, the ping, the database, the worker)
// comes through GateContext.
import type { GateStatus } from '../constants.js'
import { describeDbError, type Database } from '../db/database.js'
import type { GateResult } from '../report/model.js'
import type { RunFacts } from '../run/facts.js'
import type { Settings } from '../settings.js'

export interface GateVerdict {
  status: GateStatus
  evidence: string
  details?: string
}

export interface GateContext {
  settings: Settings
  facts: RunFacts
  /** Results of the gates that already ran, in order. */
  earlier: readonly GateResult[]
}

export interface Gate {
  id: string
  title: string
  description: string
  /** A failure of a foundation gate fails the verdict. */
  foundation: boolean
  /** Gates whose failure (or skip) makes this one impossible to run: it is skipped with the reason. */
  needs: readonly string[]
  /** It judges the whole run (the tests included): it runs after the test reports were analysed. */
  judgesRun?: boolean
  run(ctx: GateContext): Promise<GateVerdict>
}

export const verdict = (status: GateStatus, evidence: string, details?: string): GateVerdict =>
  details === undefined ? { status, evidence } : { status, evidence, details }

/**
 * Opens the connection a gate's SQL checks use (the action's own, unless `open` says otherwise).
 * A refusal becomes the gate's verdict: `skip` when `runtime` already showed that the database
 * refuses this DSN (one cause, reported once), `fail` naming what could not be checked otherwise.
 */
export async function connectForChecks(
  facts: RunFacts,
  toCheck: string,
  open: () => Promise<Database> = () => facts.database()
): Promise<{ db: Database } | { verdict: GateVerdict }> {
  try {
    return { db: await open() }
  } catch (err) {
    const blocked = await facts.sqlChecksBlocked()
    if (blocked) return { verdict: verdict('skip', blocked) }
    return { verdict: verdict('fail', `cannot connect ${toCheck}: ${facts.redact(describeDbError(err).message)}`) }
  }
}
