// The step that reads the test reports runs once, after the gates that prove something and before
// the gate that judges the run (`ci`), and also when `ci` is not among the gates (issue 15).
import { describe, expect, it } from 'vitest'
import { runGates } from '../../src/engine.js'
import type { Gate } from '../../src/gates/gate.js'
import type { GateResult } from '../../src/report/model.js'
import type { Settings } from '../../src/settings.js'
import { plainFacts } from '../support/gate-facts.js'

const SETTINGS = { app: 'app.celery_app' } as Settings
const FACTS = plainFacts()

function gate(id: string, log: string[], judgesRun = false): Gate<string> {
  return {
    id,
    title: id,
    description: id,
    foundation: !judgesRun,
    needs: [],
    ...(judgesRun ? { judgesRun } : {}),
    run() {
      log.push(id)
      return Promise.resolve({ status: 'pass', evidence: 'ok' })
    }
  }
}

async function order(ids: Array<[string, boolean?]>): Promise<{ log: string[]; seen: string[][] }> {
  const log: string[] = []
  const seen: string[][] = []
  const gates = ids.map(([id, judges]) => gate(id, log, judges))
  await runGates(gates, SETTINGS, FACTS, {
    beforeJudges: (results: readonly GateResult[]) => {
      log.push('analysis')
      seen.push(results.map((r) => r.id))
      return Promise.resolve()
    }
  })
  return { log, seen }
}

describe('beforeJudges', () => {
  it('runs once, after the proving gates and before the judging one, with their results', async () => {
    const { log, seen } = await order([['import'], ['runtime'], ['ci', true]])
    expect(log).toEqual(['import', 'runtime', 'analysis', 'ci'])
    expect(seen).toEqual([['import', 'runtime']])
  })

  it('runs at the end when no gate judges the run', async () => {
    const { log, seen } = await order([['import'], ['broker-config'], ['runtime']])
    expect(log).toEqual(['import', 'broker-config', 'runtime', 'analysis'])
    expect(seen).toEqual([['import', 'broker-config', 'runtime']])
  })

  it('runs with no results when the only gate judges the run', async () => {
    const { log, seen } = await order([['ci', true]])
    expect(log).toEqual(['analysis', 'ci'])
    expect(seen).toEqual([[]])
  })
})
