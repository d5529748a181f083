// Where a finished report goes on a runner: the job summary, the step outputs and a JSON file.
// Writes are synchronous so they also work from a signal handler that must finish before the
// runner kills the process, and everything passes through the secret registry one last time.
import { randomUUID } from 'node:crypto'
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import * as core from '@actions/core'
import { Outputs, TOOL_NAME } from '../constants.js'
import { stripControlCharacters } from '../report/escape.js'
import { renderSummary } from '../report/markdown.js'
import type { GateResult, RunReport } from '../report/model.js'
import { statusLabel } from '../report/status.js'
import { renderMatrixText } from '../report/text.js'
import { workflowFile } from '../github/workflow.js'
import {
  annotationMessage,
  boundedJsonArray,
  gatesOutput,
  githubSize,
  GATES_OUTPUT_BUDGET_BYTES,
  LOG_LINE_MAX_CHARS,
  OUTPUTS_BUDGET_BYTES
} from '../report/limits.js'
import type { SecretRegistry } from '../secrets.js'
import type { Settings } from '../settings.js'

/** GitHub shows at most 10 error annotations per step; the rest would be dropped silently. */
const MAX_ERROR_ANNOTATIONS = 10
/** Lines of the worker's log repeated in the step's log (the summary and the report have more). */
const LOG_TAIL_LINES = 60

export interface ReportSink {
  /** Writes the report once; later calls do nothing. */
  write(report: RunReport): void
}

export function reportPathFor(runId: string): string {
  return path.join(process.env.RUNNER_TEMP || tmpdir(), 'celery-foundation-gates', runId, 'report.json')
}

/** Writes the JSON report (redacted) where `reportPathFor` says; returns its path. Throws on failure. */
export function writeReportFile(report: RunReport, redact: (text: string) => string): string {
  const reportPath = reportPathFor(report.runId)
  mkdirSync(path.dirname(reportPath), { recursive: true })
  writeFileSync(reportPath, redact(JSON.stringify(report, null, 2)) + '\n')
  return reportPath
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
      writeReportFile(report, redact)
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
      // Every value is redacted before it is cut (a cut must never leave half a secret to slip
      // past the registry), and all of them together stay within OUTPUTS_BUDGET_BYTES.
      const gates = report.gates.map(({ id, title, status, evidence }) => ({ id, title, status, evidence: redact(evidence) }))
      const gatesJson = redact(gatesOutput(gates, GATES_OUTPUT_BUDGET_BYTES))
      const values: Array<[string, string]> = [
        [Outputs.Verdict, report.verdict],
        [Outputs.Gates, gatesJson],
        [
          Outputs.FailedGates,
          report.gates
            .filter((g) => g.status === 'fail')
            .map((g) => g.id)
            .join(',')
        ],
        [Outputs.Report, reportPath],
        ...(report.tests ? [[Outputs.TestsFailed, String(report.tests.failed)] as [string, string]] : [])
      ]
      for (const [name, value] of values) core.setOutput(name, value)
      if (report.tests) {
        const used = values.reduce((n, [name, v]) => n + githubSize(name) + githubSize(v), 0)
        // Whole entries only, so redacting afterwards cannot meet half a secret.
        const taxonomy = boundedJsonArray(report.tests.taxonomy, Math.max(0, OUTPUTS_BUDGET_BYTES - used))
        core.setOutput(Outputs.Taxonomy, redact(taxonomy.json))
        if (taxonomy.omitted)
          core.warning(
            `The taxonomy output holds ${taxonomy.kept} of ${report.tests.taxonomy.length} entries (GitHub limits a job's outputs to 1 MB); the report file has ${report.tests.taxonomyOmitted ? `the first ${report.tests.taxonomy.length} of ${report.tests.failed}` : 'them all'}: ${reportPath}`
          )
      }
    } catch (err) {
      problems.push(`step outputs: ${(err as Error).message}`)
    }
    // Each sink is independent: one that cannot be written must not cost the others.
    for (const p of problems) core.warning(`Could not write the ${p}`)
  }
}

/** One line per gate as it ends, so the step's log shows progress. */
export function logGateLine(result: GateResult): void {
  const first = result.evidence.slice(0, LOG_LINE_MAX_CHARS + 1).split('\n')[0] ?? ''
  const line = first.length > LOG_LINE_MAX_CHARS ? `${first.slice(0, LOG_LINE_MAX_CHARS - 1)}…` : first
  core.info(neutralizeCommands(`${statusLabel(result.status).padEnd(7)} ${result.id}: ${line}`))
}

/** The matrix as text and the end of the worker's log, in the step's log. */
export function logFinishedRun(report: RunReport): void {
  core.info('')
  core.info(renderMatrixText(report))
  const tail = report.worker?.logTail ?? []
  if (!tail.length) return
  core.startGroup(`Worker log (last ${Math.min(tail.length, LOG_TAIL_LINES)} lines; full log: ${report.worker?.logFile ?? 'n/a'})`)
  // The worker's output is outside text: a line starting with `::` must not become a workflow
  // command (set an output, add a mask, stop the log …), so the runner is told to ignore them.
  const token = randomUUID()
  core.info(`::stop-commands::${token}`)
  for (const line of tail.slice(-LOG_TAIL_LINES)) core.info(line)
  core.info(`::${token}::`)
  core.endGroup()
}

/**
 * One error annotation per failed gate, with its evidence, so a failure shows on the run's
 * overview and — on the workflow file, when the run knows it — in the pull request's files view.
 */
export function annotateFailures(report: RunReport, secrets: SecretRegistry, env: NodeJS.ProcessEnv = process.env): void {
  const failed = report.gates.filter((g) => g.status === 'fail')
  const file = workflowFile(env)
  const shown = failed.length > MAX_ERROR_ANNOTATIONS ? failed.slice(0, MAX_ERROR_ANNOTATIONS - 1) : failed
  for (const gate of shown) {
    // Cut here, not by the runner: its cut at 4,096 characters is silent.
    core.error(annotationMessage(secrets.redact(gate.evidence)), {
      title: `Celery foundation gate \`${gate.id}\` failed`,
      ...(file ? { file, startLine: 1 } : {})
    })
  }
  if (shown.length < failed.length) {
    const rest = failed.slice(shown.length).map((g) => g.id)
    core.error(`${rest.length} more gates failed: ${rest.join(', ')} (see the job summary)`, { title: 'More Celery foundation gates failed' })
  }
}

/**
 * The hidden marker that finds this step's pull-request comment again on a rerun: one comment per
 * app and directory, so two gate steps in one workflow (two services) keep one comment each.
 */
export function feedbackMarker(settings: Pick<Settings, 'app' | 'workingDirectory'>, env: NodeJS.ProcessEnv = process.env): string {
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd()
  const dir = path.relative(workspace, settings.workingDirectory) || '.'
  return `${TOOL_NAME}:${settings.app}@${dir}`
}

/** One line of outside text for the log: no control characters, no workflow command. */
function neutralizeCommands(line: string): string {
  return stripControlCharacters(line).replace(/^(\s*)::/, '$1: :')
}
