import { describe, expect, it } from 'vitest'
import { buildReport } from '../../src/report/build.js'
import type { GateResult } from '../../src/report/model.js'
import { validateReport } from '../../src/report/schema.js'
import type { ReportSnapshot, RunSnapshot } from '../../src/report/snapshot.js'

const gates = [
  { id: 'import', title: 'Import', description: 'imports', foundation: true },
  { id: 'runtime', title: 'Runtime', description: 'answers', foundation: true }
] as const
const imported: GateResult = { ...gates[0], status: 'pass', evidence: 'imported', durationMs: 5 }

function snapshot(rest: Partial<ReportSnapshot> = {}): ReportSnapshot {
  return {
    gates,
    results: [imported],
    runId: 'cfg-1',
    startedAt: new Date('2026-01-01T00:00:00Z'),
    finishedAt: new Date('2026-01-01T00:00:09Z'),
    totalMs: 9000,
    failOn: 'foundation',
    ...rest
  }
}

const early: RunSnapshot = { pingTask: 'app.ping', pingTaskId: 'task-1', probeMs: 300, workerReadyMs: 1200 }

describe('buildReport', () => {
  it('is a function of the snapshot: the same snapshot, the same report', () => {
    const s = snapshot({ run: early, gatesMs: 8000 })
    expect(buildReport(s)).toEqual(buildReport(s))
    expect(buildReport(s).finishedAt).toBe('2026-01-01T00:00:09.000Z')
    expect(buildReport(s).timings).toEqual({ totalMs: 9000, gatesMs: 8000, probeMs: 300, workerReadyMs: 1200 })
  })

  it('fills in the gates without a result, and fails a cancelled run that proved nothing red', () => {
    const report = buildReport(snapshot({ interrupted: { kind: 'cancelled', message: 'cancelled by SIGINT' } }))
    expect(report.gates.map((g) => [g.id, g.status, g.evidence])).toEqual([
      ['import', 'pass', 'imported'],
      ['runtime', 'skip', 'not run: the run was cancelled']
    ])
    expect(report.verdict).toBe('fail')
    expect(validateReport(report)).toEqual({ ok: true })
  })

  it('gives a hurried run (no late facts) the same shape as a finished one, with the late fields absent', () => {
    const hurried = buildReport(snapshot({ run: early, interrupted: { kind: 'cancelled', message: 'cancelled by SIGTERM' } }))
    const late: RunSnapshot = {
      ...early,
      ping: { published: true, status: 'SUCCESS', result: "'pong'", roundTripMs: 40, publishedMs: 1000, pongMs: 1040 },
      versions: { python: '3.12.1', celery: '5.7.0', kombu: null, sqlalchemy: '2.0.0' }
    }
    const finished = buildReport(snapshot({ run: late, interrupted: { kind: 'cancelled', message: 'cancelled by SIGTERM' } }))
    expect(hurried.ping).toEqual({ task: 'app.ping', taskId: 'task-1' })
    expect(finished.ping).toEqual({ task: 'app.ping', taskId: 'task-1', status: 'SUCCESS', result: "'pong'", roundTripMs: 40 })
    expect(finished.timings).toMatchObject({ pingPublishedMs: 1000, pongMs: 1040, roundTripMs: 40 })
    expect(Object.keys(hurried).every((key) => key in finished)).toBe(true)
    expect(hurried.versions.python).toBeUndefined()
    expect(finished.versions).toMatchObject({ python: '3.12.1', celery: '5.7.0' })
    expect(validateReport(JSON.parse(JSON.stringify(hurried)))).toEqual({ ok: true })
    expect(validateReport(JSON.parse(JSON.stringify(finished)))).toEqual({ ok: true })
  })

  it('shows no ping that was never published', () => {
    const report = buildReport(snapshot({ run: { ...early, ping: { published: false } } }))
    expect(report.ping).toBeUndefined()
    expect('ping' in report).toBe(false)
  })
})
