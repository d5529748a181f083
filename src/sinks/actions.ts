// Where a finished report goes on a runner: the job summary, the step outputs and a JSON file.
// Writes are synchronous so they also work from a signal handler that must finish before the
// runner kills the process, and everything passes through the secret registry one last time.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import * as core from '@actions/core'
import { Outputs } from '../constants.js'
import { renderSummary } from '../report/markdown.js'
import type { RunReport } from '../report/model.js'
import type { SecretRegistry } from '../secrets.js'

export interface ReportSink {
  /** Writes the report once; later calls do nothing. */
  write(report: RunReport): void
}

/** GitHub's limit for one step output is 1 MB; stay clear of it. */
const MAX_OUTPUT_BYTES = 900_000

/** A JSON array of as many leading items as fit in `maxBytes` (still valid JSON). */
export function boundedJsonArray(items: readonly unknown[], maxBytes: number): { json: string; kept: number; omitted: number } {
  const parts: string[] = []
  let bytes = 2
  for (const item of items) {
    const part = JSON.stringify(item)
    const size = Buffer.byteLength(part) + (parts.length ? 1 : 0)
    if (bytes + size > maxBytes) break
    parts.push(part)
    bytes += size
  }
  return { json: `[${parts.join(',')}]`, kept: parts.length, omitted: items.length - parts.length }
}

export function reportPathFor(runId: string): string {
  return path.join(process.env.RUNNER_TEMP || tmpdir(), 'celery-foundation-gates', runId, 'report.json')
}

export class ActionsSink implements ReportSink {
  private written = false

  constructor(private readonly secrets: SecretRegistry) {}

  write(report: RunReport): void {
    if (this.written) return
    this.written = true
    const redact = (s: string): string => this.secrets.redact(s)
    const reportPath = reportPathFor(report.runId)
    const problems: string[] = []
    try {
      mkdirSync(path.dirname(reportPath), { recursive: true })
      writeFileSync(reportPath, redact(JSON.stringify(report, null, 2)) + '\n')
    } catch (err) {
      problems.push(`report file ${reportPath}: ${(err as Error).message}`)
    }
    const summaryFile = process.env.GITHUB_STEP_SUMMARY
    if (summaryFile) {
      try {
        appendFileSync(summaryFile, redact(renderSummary(report)))
      } catch (err) {
        problems.push(`job summary: ${(err as Error).message}`)
      }
    }
    try {
      core.setOutput(Outputs.Verdict, report.verdict)
      core.setOutput(
        Outputs.Gates,
        redact(JSON.stringify(report.gates.map(({ id, title, status, evidence }) => ({ id, title, status, evidence }))))
      )
      core.setOutput(Outputs.FailedGates, report.gates.filter((g) => g.status === 'fail').map((g) => g.id).join(','))
      core.setOutput(Outputs.Report, reportPath)
      if (report.tests) {
        core.setOutput(Outputs.TestsFailed, String(report.tests.failed))
        const taxonomy = boundedJsonArray(report.tests.taxonomy, MAX_OUTPUT_BYTES)
        core.setOutput(Outputs.Taxonomy, redact(taxonomy.json))
        if (taxonomy.omitted)
          core.warning(`The taxonomy output holds ${taxonomy.kept} of ${report.tests.taxonomy.length} entries (GitHub limits an output to 1 MB); the report file has them all: ${reportPath}`)
      }
    } catch (err) {
      problems.push(`step outputs: ${(err as Error).message}`)
    }
    // Each sink is independent: one that cannot be written must not cost the others.
    for (const p of problems) core.warning(`Could not write the ${p}`)
  }
}
