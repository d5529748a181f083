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
    } catch (err) {
      problems.push(`step outputs: ${(err as Error).message}`)
    }
    // Each sink is independent: one that cannot be written must not cost the others.
    for (const p of problems) core.warning(`Could not write the ${p}`)
  }
}
