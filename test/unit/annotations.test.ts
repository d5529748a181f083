// One error annotation per failed gate, as the runner reads workflow commands from stdout; GitHub
// shows at most 10 per step, so the tenth names the rest. The workflow file places them in the
// pull request's files view when it is known and belongs to this repository.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { workflowFile } from '../../src/github/workflow.js'
import type { GateResult } from '../../src/report/model.js'
import { SecretRegistry } from '../../src/secrets.js'
import { annotateFailures } from '../../src/sinks/actions.js'
import { loadReportFixture, reportWith } from './report-fixtures.js'

let written: string[]
beforeEach(() => {
  written = []
  // The runner reads `::error …::` commands from the step's stdout: capture what reaches it.
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk))
    return true
  })
})
afterEach(() => {
  vi.restoreAllMocks()
})

const errors = (): string[] =>
  written
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('::error'))
const ENV = { GITHUB_REPOSITORY: 'acme/shop', GITHUB_WORKFLOW_REF: 'acme/shop/.github/workflows/ci.yml@refs/pull/7/merge' }

describe('annotateFailures', () => {
  it('writes one error per failed gate, with its evidence, on the workflow file, and none for a pass', () => {
    annotateFailures(loadReportFixture('runtime-wrong-password'), new SecretRegistry(), ENV)
    const lines = errors()
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      /^::error title=Celery foundation gate `runtime` failed,file=\.github\/workflows\/ci\.yml,line=1::the database refused the worker's connection: password authentication failed/
    )
    written = []
    annotateFailures(loadReportFixture('all-pass'), new SecretRegistry(), ENV)
    expect(errors()).toEqual([])
  })

  it('keeps to GitHub’s 10 error annotations per step: the tenth names the rest', () => {
    const gates: GateResult[] = Array.from({ length: 13 }, (_, i) => ({
      id: `gate-${i}`,
      title: `Gate ${i}`,
      description: '',
      status: 'fail',
      evidence: `broken ${i}`,
      foundation: true,
      durationMs: 1
    }))
    annotateFailures(reportWith({ gates }), new SecretRegistry(), {})
    const lines = errors()
    expect(lines).toHaveLength(10)
    expect(lines[8]).toBe('::error title=Celery foundation gate `gate-8` failed::broken 8')
    expect(lines[9]).toBe('::error title=More Celery foundation gates failed::4 more gates failed: gate-9, gate-10, gate-11, gate-12 (see the job summary)')
  })

  it('redacts secrets from the evidence it annotates', () => {
    const secrets = new SecretRegistry()
    secrets.add('hunter2-pw')
    annotateFailures(reportWith({ gateChanges: { runtime: { status: 'fail', evidence: 'login with hunter2-pw refused' } } }), secrets, {})
    expect(errors().join('\n')).not.toContain('hunter2-pw')
    expect(errors().join('\n')).toContain('login with *** refused')
  })
})

describe('workflowFile', () => {
  it('reads the workflow file of this repository from GITHUB_WORKFLOW_REF', () => {
    expect(workflowFile(ENV)).toBe('.github/workflows/ci.yml')
  })

  it('is unknown for a reusable workflow of another repository, or without the variables', () => {
    expect(workflowFile({ GITHUB_REPOSITORY: 'acme/shop', GITHUB_WORKFLOW_REF: 'acme/templates/.github/workflows/gates.yml@v1' })).toBeUndefined()
    expect(workflowFile({})).toBeUndefined()
  })
})
