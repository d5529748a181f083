// Where a finished report goes from the CLI: the JSON report file (where the action writes it), the
// markdown summary with --summary-file, and the matrix (or with --json, the report) on stdout.
// Synchronous, as it may run from a signal handler; everything is redacted one last time.
import { writeFileSync } from 'node:fs'
import type { Writable } from 'node:stream'
import type { GateStatus } from '../constants.js'
import { renderSummary } from '../report/markdown.js'
import type { RunReport } from '../report/model.js'
import { renderMatrixText } from '../report/text.js'
import { writeReportFile } from './actions.js'

export interface CliSinkOptions {
  /** The report as JSON on stdout; the matrix then goes to stderr. */
  json?: boolean
  /** Also write the markdown summary here. */
  summaryFile?: string
  /** Colours a status in the matrix, as the stream the matrix goes to takes colours. */
  styleStatus?: (status: GateStatus, text: string) => string
  /** Write the JSON report file (and name it); false when the run's folder goes at the end. Default true. */
  reportFile?: boolean
}

/** The report's files and stdout, and on stderr where they went or why one could not be written. */
export function writeCliResults(
  report: RunReport,
  options: CliSinkOptions,
  io: { stdout: Writable; stderr: Writable },
  redact: (text: string) => string
): void {
  const problems: string[] = []
  let reportPath: string | undefined
  if (options.reportFile !== false)
    try {
      reportPath = writeReportFile(report, redact)
    } catch (err) {
      problems.push(`report file: ${(err as Error).message}`)
    }
  if (options.summaryFile) {
    try {
      writeFileSync(options.summaryFile, redact(renderSummary(report)))
    } catch (err) {
      problems.push(`summary file ${options.summaryFile}: ${(err as Error).message}`)
    }
  }
  const matrix = redact(renderMatrixText(report, options.styleStatus ? { styleStatus: options.styleStatus } : {}))
  if (options.json) {
    io.stdout.write(redact(JSON.stringify(report, null, 2)) + '\n')
    io.stderr.write(`\n${matrix}\n`)
  } else {
    io.stdout.write(`\n${matrix}\n`)
  }
  if (reportPath) io.stderr.write(`Report: ${reportPath}\n`)
  if (options.summaryFile && !problems.some((p) => p.startsWith('summary'))) io.stderr.write(`Summary: ${options.summaryFile}\n`)
  for (const p of problems) io.stderr.write(`warning: could not write the ${redact(p)}\n`)
}
