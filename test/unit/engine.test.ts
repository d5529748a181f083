import { describe, expect, it } from 'vitest'
import { errorLine, runGates, verdictOf } from '../../src/engine.js'
import type { Gate, GateContext, GateOutcome } from '../../src/gates/gate.js'
import type { GateResult } from '../../src/report/model.js'
import type { GateFacts } from '../../src/gates/facts.js'
import type { Settings } from '../../src/settings.js'
import { plainFacts } from '../support/gate-facts.js'

// The engine only passes settings through to the gates.
const SETTINGS = { app: 'app.celery_app' } as Settings

/** The two members of the facts the engine uses: cancellation and redaction (of `s3cret`). */
function fakeFacts(cancelled: () => boolean = () => false): GateFacts {
  return plainFacts({ cancelled, redact: (text: string) => text.replaceAll('s3cret', '***') })
}

/**
 * A gate that returns `outcome` (or throws it, if it is not a verdict) and records the context of
 * each run, with the ids of the earlier results as they were when it ran.
 */
function gate(id: string, outcome: GateOutcome | Error | string, options: { needs?: string[]; foundation?: boolean; onRun?: () => void } = {}) {
  const contexts: (GateContext & { earlierIds: string[] })[] = []
  // Any id: the engine knows no gate by name (the action's gates are typed GateId).
  const g: Gate<string> & { contexts: typeof contexts } = {
    id,
    title: `Title of ${id}`,
    description: `Description of ${id}`,
    foundation: options.foundation ?? true,
    needs: options.needs ?? [],
    contexts,
    run(ctx) {
      contexts.push({ ...ctx, earlierIds: ctx.earlier.map((r) => r.id) })
      options.onRun?.()
      if (typeof outcome === 'string' || outcome instanceof Error) return Promise.reject(outcome)
      return Promise.resolve(outcome)
    }
  }
  return g
}

const pass = (evidence = 'ok'): GateOutcome => ({ status: 'pass', evidence })
const fail = (evidence = 'broken'): GateOutcome => ({ status: 'fail', evidence })

const summary = (results: GateResult[]) => results.map((r) => [r.id, r.status, r.evidence])

describe('runGates', () => {
  it('runs every gate in order and copies what the gate says about itself', async () => {
    const gates = [gate('a', pass('A fine')), gate('b', { status: 'warn', evidence: 'B so-so', details: 'more' }, { foundation: false }), gate('c', pass())]
    const results = await runGates(gates, SETTINGS, fakeFacts())
    expect(summary(results)).toEqual([
      ['a', 'pass', 'A fine'],
      ['b', 'warn', 'B so-so'],
      ['c', 'pass', 'ok']
    ])
    expect(results[1]).toMatchObject({ title: 'Title of b', description: 'Description of b', foundation: false, details: 'more' })
    expect(results[0]).not.toHaveProperty('details')
    for (const result of results) {
      expect(Number.isInteger(result.durationMs)).toBe(true)
      expect(result.durationMs).toBeGreaterThanOrEqual(0)
    }
  })

  it('gives each gate the settings, the facts and the results before it', async () => {
    const facts = fakeFacts()
    const first = gate('a', pass())
    const second = gate('b', pass())
    await runGates([first, second], SETTINGS, facts)
    expect(first.contexts[0]?.earlierIds).toEqual([])
    expect(second.contexts[0]?.settings).toBe(SETTINGS)
    expect(second.contexts[0]?.facts).toBe(facts)
    expect(second.contexts[0]?.earlierIds).toEqual(['a'])
  })

  it('skips a gate whose prerequisite failed, naming it, without running it', async () => {
    const dependent = gate('runtime', pass(), { needs: ['import'] })
    const results = await runGates([gate('import', fail()), dependent, gate('ci', pass(), { foundation: false })], SETTINGS, fakeFacts())
    expect(summary(results)).toEqual([
      ['import', 'fail', 'broken'],
      ['runtime', 'skip', 'not run: `import` failed'],
      ['ci', 'pass', 'ok']
    ])
    expect(dependent.contexts).toHaveLength(0)
  })

  it('skips a gate whose prerequisite was skipped, naming the failure that caused it', async () => {
    const gates = [gate('import', fail()), gate('runtime', pass(), { needs: ['import'] }), gate('db-access', pass(), { needs: ['runtime'] })]
    const results = await runGates(gates, SETTINGS, fakeFacts())
    expect(results[2]).toMatchObject({ status: 'skip', evidence: 'not run: `import` failed' })
  })

  it('names a skipped prerequisite when no failure caused its skip', async () => {
    const gates = [gate('a', { status: 'skip', evidence: 'not configured' }), gate('b', pass(), { needs: ['a'] })]
    const results = await runGates(gates, SETTINGS, fakeFacts())
    expect(results[1]).toMatchObject({ status: 'skip', evidence: 'not run: `a` was skipped' })
  })

  it('runs a gate whose prerequisites passed or only warned', async () => {
    const gates = [gate('a', pass()), gate('b', { status: 'warn', evidence: 'hm' }), gate('c', pass('ran'), { needs: ['a', 'b'] })]
    const results = await runGates(gates, SETTINGS, fakeFacts())
    expect(results[2]).toMatchObject({ status: 'pass', evidence: 'ran' })
  })

  it('is not blocked by a failed gate it does not need', async () => {
    const results = await runGates([gate('a', fail()), gate('b', pass('ran'), { needs: ['c'] })], SETTINGS, fakeFacts())
    expect(results[1]).toMatchObject({ status: 'pass', evidence: 'ran' })
  })

  it('fails a throwing gate with the first line of the error, redacted', async () => {
    const error = new Error('connect to postgresql://u:s3cret@h/d failed\nsecond line')
    const results = await runGates([gate('db-access', error), gate('next', pass())], SETTINGS, fakeFacts())
    expect(results[0]).toMatchObject({
      status: 'fail',
      evidence: 'the check could not complete: connect to postgresql://u:***@h/d failed'
    })
    expect(results[0]?.details).toContain('second line')
    expect(results[0]?.details).toContain('Error: connect to postgresql://u:***@h/d failed')
    expect(results[0]?.details).not.toContain('s3cret')
    expect(results[1]).toMatchObject({ status: 'pass' })
  })

  it('fails a gate that throws something that is not an Error', async () => {
    const results = await runGates([gate('a', 'plain string thrown')], SETTINGS, fakeFacts())
    expect(results[0]).toMatchObject({ status: 'fail', evidence: 'the check could not complete: plain string thrown', details: 'plain string thrown' })
  })

  it('skips the rest once the run is cancelled', async () => {
    let cancelled = false
    const later = gate('c', pass())
    const cancel = () => {
      cancelled = true
    }
    const gates = [gate('a', pass()), gate('b', pass('b ran'), { onRun: cancel }), later]
    const results = await runGates(
      gates,
      SETTINGS,
      fakeFacts(() => cancelled)
    )
    expect(summary(results)).toEqual([
      ['a', 'pass', 'ok'],
      ['b', 'pass', 'b ran'],
      ['c', 'skip', 'not run: the run was cancelled']
    ])
    expect(later.contexts).toHaveLength(0)
  })

  it('runs no gate of a run cancelled before it started', async () => {
    const gates = [gate('a', pass()), gate('b', fail(), { needs: ['a'] })]
    const results = await runGates(
      gates,
      SETTINGS,
      fakeFacts(() => true)
    )
    expect(results.map((r) => r.status)).toEqual(['skip', 'skip'])
    expect(results.every((r) => r.evidence === 'not run: the run was cancelled')).toBe(true)
    expect(gates.flatMap((g) => g.contexts)).toEqual([])
  })

  it('skips, not fails, a gate that throws because the run was cancelled under it', async () => {
    let cancelled = false
    const interrupted = gate('runtime', new Error('worker stopped'), {
      onRun: () => {
        cancelled = true
      }
    })
    const results = await runGates(
      [interrupted],
      SETTINGS,
      fakeFacts(() => cancelled)
    )
    expect(results[0]).toMatchObject({ status: 'skip', evidence: 'not run: the run was cancelled' })
    expect(results[0]).not.toHaveProperty('details')
  })

  it('calls the hooks around each gate, in order', async () => {
    const events: string[] = []
    await runGates([gate('a', pass()), gate('b', fail(), { needs: ['a'] })], SETTINGS, fakeFacts(), {
      onGateStart: (g) => events.push(`start ${g.id}`),
      onGateEnd: (r) => events.push(`end ${r.id} ${r.status}`)
    })
    expect(events).toEqual(['start a', 'end a pass', 'start b', 'end b fail'])
  })

  it('returns nothing for no gates', async () => {
    expect(await runGates([], SETTINGS, fakeFacts())).toEqual([])
  })
})

/** A result with the fields verdictOf reads. */
const result = (status: GateResult['status'], foundation: boolean): GateResult => ({
  id: `${status}-${foundation}`,
  title: '',
  description: '',
  status,
  evidence: '',
  foundation,
  durationMs: 0
})

describe('verdictOf', () => {
  it('fails when a foundation gate failed', () => {
    expect(verdictOf([result('pass', true), result('fail', true), result('pass', false)])).toBe('fail')
  })

  it('ignores failures of gates outside the foundation', () => {
    expect(verdictOf([result('pass', true), result('fail', false)])).toBe('pass')
  })

  it('passes with warnings and skips', () => {
    expect(verdictOf([result('warn', true), result('skip', true), result('pass', true)])).toBe('pass')
  })

  it('passes with no results', () => {
    expect(verdictOf([])).toBe('pass')
  })
})

describe('errorLine', () => {
  it('is the first line of an error message or of a thrown value', () => {
    expect(errorLine(new Error('first\nsecond'))).toBe('first')
    expect(errorLine('just text')).toBe('just text')
    expect(errorLine(42)).toBe('42')
  })
})
