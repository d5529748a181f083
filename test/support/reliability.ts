// RELIABILITY.md is generated from the test run, not written by hand: every fault, bad-input,
// cancellation and load test checks the same invariants on the step it drove and records, per case,
// what it expected and what it saw. The global teardown (test/global-setup.ts) renders the records.
import { appendFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { expect } from 'vitest'
import { REPO, leakedSecrets, processesOfRun, type ActionResult } from './action.js'
import { worstCaseRunMs } from '../../src/timing.js'

export const RECORDS_DIR = path.join(REPO, '.tmp', 'reliability')

export interface ReliabilityRecord {
  group: string
  case: string
  expectation: string
  result: string
  passed: boolean
}

/** Appends one case to the run's records (one JSON line per case; files run in parallel). */
export function record(entry: ReliabilityRecord): void {
  mkdirSync(RECORDS_DIR, { recursive: true })
  appendFileSync(path.join(RECORDS_DIR, `${process.pid}.jsonl`), `${JSON.stringify(entry)}\n`)
}

export interface StepExpectation {
  /** The exit code the step must end with. */
  code: number
  /** Gate id → status, for the gates the case is about. */
  gates?: Record<string, string>
  /** Evidence of the first gate named in `gates` (or of `evidenceOf`) must match. */
  evidence?: RegExp
  evidenceOf?: string
  /** The step must end within timeout + margin (seconds). */
  timeoutS?: number
  marginS?: number
  /** Strings that must appear nowhere the step wrote (passwords, DSNs). */
  secrets?: string[]
  /** The summary and report must be written (false only for cases that cannot have them). */
  written?: boolean
}

/** What a run may take beyond its `timeout`: the bounded waits after the ping's deadline (src/timing.ts). */
const DEFAULT_MARGIN_S = worstCaseRunMs(0) / 1000

/**
 * Checks the invariants every driven step must keep — exit code, gate statuses and evidence,
 * bounded time, summary and report written, no secret anywhere, no process left — records the
 * case, and fails the test if any does not hold.
 */
export function checkStep(group: string, name: string, result: ActionResult, want: StepExpectation, expectation: string): void {
  const problems: string[] = []
  const gates = JSON.parse(result.outputs.gates ?? '[]') as Array<{ id: string; status: string; evidence: string }>
  const byId = new Map(gates.map((g) => [g.id, g]))
  if (result.code !== want.code) problems.push(`exit ${result.code} (want ${want.code})`)
  for (const [id, status] of Object.entries(want.gates ?? {})) {
    const got = byId.get(id)?.status
    if (got !== status) problems.push(`${id} ${got ?? 'missing'} (want ${status})`)
  }
  const evidenceGate = want.evidenceOf ?? Object.keys(want.gates ?? {})[0]
  const evidence = evidenceGate ? (byId.get(evidenceGate)?.evidence ?? '') : ''
  if (want.evidence && !want.evidence.test(evidence))
    problems.push(`${evidenceGate} evidence ${JSON.stringify(evidence.split('\n')[0])} does not match ${want.evidence}`)
  const limitS = (want.timeoutS ?? 60) + (want.marginS ?? DEFAULT_MARGIN_S)
  if (result.durationMs > limitS * 1000) problems.push(`took ${(result.durationMs / 1000).toFixed(1)} s (limit ${limitS} s)`)
  if (want.written !== false) {
    if (!result.summary.includes('Celery foundation gates')) problems.push('no job summary')
    if (!result.report) problems.push('no JSON report')
  }
  const leaks = leakedSecrets(result, want.secrets ?? [])
  problems.push(...leaks)
  const runId = result.report?.runId ?? result.state['run-id']
  const left = runId ? processesOfRun(runId) : []
  if (left.length) problems.push(`${left.length} process(es) left running: ${left.join(', ')}`)

  const statuses = gates.map((g) => `${g.id} ${g.status}`).join(', ')
  const seen = [
    `exit ${result.code} in ${(result.durationMs / 1000).toFixed(1)} s`,
    evidenceGate ? `${evidenceGate}: ${firstLine(evidence)}` : '',
    statuses ? `(${statuses})` : '',
    want.secrets?.length ? `no secret in ${leaks.length ? 'SOME' : 'any'} output` : '',
    `${left.length} processes left`
  ]
    .filter(Boolean)
    .join('; ')
  record({ group, case: name, expectation, result: problems.length ? `${seen} — PROBLEMS: ${problems.join('; ')}` : seen, passed: !problems.length })
  expect(problems, `${name}\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`).toEqual([])
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? ''
  return line.length > 160 ? `${line.slice(0, 159)}…` : line
}
