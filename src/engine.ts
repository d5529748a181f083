// Runs gates in their order. A gate whose prerequisites failed or were skipped is skipped with
// the reason; a gate that throws fails with what it threw (a gate that cannot prove its claim
// must not pass); a cancelled run skips what is left. What the gates need from the worker is
// theirs to declare (workerNeeds); the run's facts know no gate.
import type { GateFacts, WorkerNeed } from './gates/facts.js'
import type { Gate, GateContext } from './gates/gate.js'
import { boundGateText } from './report/limits.js'
import type { GateResult } from './report/model.js'
import type { Settings } from './settings.js'

export interface EngineHooks<G extends Gate<string> = Gate> {
  onGateStart?(gate: G): void
  onGateEnd?(result: GateResult): void
  /**
   * Called once, when every gate that proves something has run and before a gate that judges the
   * run as a whole (`judgesRun`): the step that reads the test reports, whose rules depend on
   * those results. Called at the end when no such gate runs, so it never depends on `gates`.
   */
  beforeJudges?(results: readonly GateResult[]): Promise<void>
}

/** What the worker must do for these gates beyond the run's ping: the union of their needs. */
export function workerNeeds(gates: readonly Gate<string>[]): WorkerNeed[] {
  return [...new Set(gates.flatMap((g) => g.needsFromWorker ?? []))]
}

export async function runGates<G extends Gate<string>>(
  gates: readonly G[],
  settings: Settings,
  facts: GateFacts,
  hooks: EngineHooks<G> = {}
): Promise<GateResult[]> {
  const results: GateResult[] = []
  // For a skipped gate, the failed gate that caused the skip (so every skip names the real cause).
  const cause = new Map<string, string>()
  let judging = false
  for (const gate of gates) {
    if (gate.judgesRun && !judging) {
      judging = true
      await hooks.beforeJudges?.([...results])
    }
    hooks.onGateStart?.(gate)
    const t0 = performance.now()
    // Only prerequisites that ran can block: a gate turned off (the `gates` input) is not a failure.
    const blocked = results.find((r) => gate.needs.includes(r.id) && (r.status === 'fail' || r.status === 'skip'))
    let status: GateResult['status']
    let evidence: string
    let details: string | undefined
    if (facts.cancelled()) {
      status = 'skip'
      evidence = 'not run: the run was cancelled'
    } else if (blocked) {
      status = 'skip'
      const root = blocked.status === 'fail' ? blocked.id : (cause.get(blocked.id) ?? blocked.id)
      cause.set(gate.id, root)
      evidence = `not run: \`${root}\` ${results.find((r) => r.id === root)?.status === 'fail' ? 'failed' : 'was skipped'}`
    } else {
      const ctx: GateContext = { settings, facts, earlier: [...results] }
      try {
        const v = await gate.run(ctx)
        ;({ status, evidence, details } = v)
      } catch (err) {
        if (facts.cancelled()) {
          status = 'skip'
          evidence = 'not run: the run was cancelled'
        } else {
          status = 'fail'
          evidence = `the check could not complete: ${facts.redact(errorLine(err))}`
          details = facts.redact((err as Error)?.stack ?? String(err))
        }
      }
    }
    // Whatever a gate wrote, the report holds a bounded amount of it (src/report/limits.ts).
    ;({ evidence, details } = boundGateText(evidence, details))
    const result: GateResult = {
      id: gate.id,
      title: gate.title,
      description: gate.description,
      status,
      evidence,
      foundation: gate.foundation,
      durationMs: Math.round(performance.now() - t0)
    }
    if (details !== undefined) result.details = details
    results.push(result)
    hooks.onGateEnd?.(result)
  }
  if (!judging) await hooks.beforeJudges?.([...results])
  return results
}

// The verdict is the report's rule (report/status.ts); re-exported for the engine's callers.
export { verdictOf } from './report/status.js'

export function errorLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err)
  return msg.split('\n')[0] ?? msg
}
