// `celery-foundation-gates`: the action's engine in a terminal. The same inputs as flags, the
// same validation, the same gates and report; live progress on stderr, the matrix (or --json,
// the report) on stdout, and an exit code that follows --fail-on.
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { Writable } from 'node:stream'
import { Command, Option } from 'commander'
import { TOOL_NAME, type InputName } from '../constants.js'
import { ACTION_VERSION } from '../report/build.js'
import type { RunReport } from '../report/model.js'
import { removeRunFolder, runsRoot } from '../run/folder.js'
import { runSession, type SessionHost } from '../run/session.js'
import { SecretRegistry } from '../secrets.js'
import { scrubCredentials } from '../util/scrub.js'
import { feedbackMarker } from '../sinks/actions.js'
import { writeCliResults } from '../sinks/cli.js'
import { INPUT_FLAGS, rawInputsFromFlags } from './flags.js'
import { stopCommand } from './stop-command.js'
import { TerminalProgress, isInteractive, paletteFor } from './terminal.js'

export const ExitCode = {
  Pass: 0,
  /** A gate failed, or tests under --fail-on any, or the run crashed. */
  Fail: 1,
  /** A flag is missing or wrong: nothing was run. */
  Usage: 2,
  /** Interrupted (Ctrl-C): 128 + SIGINT, as shells report it. */
  Cancelled: 130
} as const

export interface CliIo {
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean }
  env: NodeJS.ProcessEnv
}

interface CliOptions {
  json?: boolean
  /** false with --no-color. */
  color?: boolean
  summaryFile?: string
  keepFiles?: boolean
  [flag: string]: unknown
}

export function buildProgram(): Command {
  const program = new Command(TOOL_NAME)
    .description(
      "Proves a Celery app's PostgreSQL foundation works: boots its real worker, pings it through the broker tables, checks DSNs, tables, privileges, roles and row-level security, and prints the gate matrix."
    )
    .version(ACTION_VERSION)
    .helpOption('-h, --help', 'show this help')
    .showHelpAfterError('(run with --help for every flag)')
    .allowExcessArguments(false)
  for (const [input, flag] of Object.entries(INPUT_FLAGS) as Array<[InputName, (typeof INPUT_FLAGS)[InputName]]>) {
    const help = flag.default !== undefined && flag.value ? `${flag.help} (default: ${flag.default})` : flag.help
    // A switch that is on by default is turned off with --no-<name>.
    const spec = flag.value ? `--${input} <${flag.value}>` : flag.default === 'true' ? `--no-${input}` : `--${input}`
    program.addOption(new Option(spec, help))
  }
  program
    .option('--json', "print the JSON report on stdout (the same report, and schema, as the action's `report` output); progress stays on stderr")
    .option('--summary-file <path>', 'also write the markdown summary (what the action puts in the job summary) to this file')
    .option('--no-color', 'no colours (also NO_COLOR=1)')
    .option('--keep-files', "keep the run's folder (worker log, report.json) instead of removing it when the run ends")
    .addHelpText(
      'after',
      `
Exit codes: 0 the gates pass under --fail-on, 1 they do not (or the run crashed),
2 a flag is missing or wrong, 130 interrupted (Ctrl-C stops the worker first).

Example:
  npx ${TOOL_NAME} --app app.celery_app --working-directory examples/tenant-app \\
    --python .venv/celery-5.7/bin/python --junit reports/junit.xml

The schema a least-privilege worker needs (DDL and grants): npx ${TOOL_NAME} sql --help`
    )
  return program
}

/** Runs the CLI; resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  if (argv[0] === 'sql') {
    const { runSqlCommand } = await import('../sql/command.js')
    return runSqlCommand(argv.slice(1), io)
  }
  const program = buildProgram()
    .exitOverride()
    // No runner masks a terminal: a flag error quoting a DSN is cut by pattern before it is shown.
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(scrubCredentials(s)) })
  try {
    program.parse([...argv], { from: 'user' })
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode
    // --help and --version end here too, with exit code 0.
    return code === 0 ? ExitCode.Pass : ExitCode.Usage
  }
  const options = program.opts<CliOptions>()
  // Nothing to run without an app: one line, not a matrix of gates that never ran.
  if (typeof options.app !== 'string' || !options.app.trim()) {
    io.stderr.write(`${TOOL_NAME}: --app is required: the Celery app as given to \`celery -A\`, e.g. app.celery_app\n(run with --help for every flag)\n`)
    return ExitCode.Usage
  }
  // The CLI has no runner mask: every line it prints goes through the registry. `clean` (known
  // secrets and credential patterns) for plain lines; `redact` (known secrets) for what is
  // rendered from the report, whose strings the session has already cleaned one by one.
  const secrets = new SecretRegistry()
  const redact = (text: string): string => secrets.redact(text)
  const clean = (text: string): string => secrets.clean(text)
  const progress = new TerminalProgress(io.stderr, clean, isInteractive(io.stderr, io.env), paletteFor(io.stderr, io.env, options.color))
  let written: RunReport | undefined
  // The run's folder (worker log, report.json, connections record) goes when the run ends, unless
  // asked for (--keep-files) or a kept worker still writes its output there.
  let workerKept = false
  const keepFolder = (): boolean => !!options.keepFiles || workerKept
  const host: SessionHost = {
    info: (line) => progress.info(line),
    warning: (message) => progress.warning(message),
    gateStarted: (gate) => progress.gateStarted(gate),
    gateEnded: (result) => progress.gateEnded(result),
    workerKept({ nodeName, pid }) {
      workerKept = true
      progress.info(`The worker ${nodeName} keeps running${pid ? ` (pid ${pid}); stop it with: ${stopCommand(pid)}` : ''}`)
    },
    finish(report) {
      progress.stop()
      written = report
      // The matrix goes to stderr under --json: coloured as that stream takes colours.
      const matrixStream = options.json ? io.stderr : io.stdout
      const { status } = paletteFor(matrixStream, io.env, options.color)
      writeCliResults(report, { json: options.json, summaryFile: options.summaryFile, styleStatus: status, reportFile: keepFolder() }, io, redact)
    },
    exitNow(message) {
      io.stderr.write(`${clean(message)}\n`)
      process.exit(ExitCode.Cancelled)
    }
  }
  const { report, settings, failure, inputError } = await runSession(rawInputsFromFlags(options), host, secrets)
  if (settings?.githubToken) {
    const { publishFeedback } = await import('../github/feedback.js')
    await publishFeedback(
      report,
      {
        token: settings.githubToken,
        prComment: settings.prComment,
        checkRun: settings.checkRun,
        marker: feedbackMarker(settings, io.env),
        workingDirectory: settings.workingDirectory,
        redact
      },
      { info: (m) => progress.info(m), warning: (m) => progress.warning(m) },
      io.env
    )
  }
  if (written) endRunFolder(written.runId, keepFolder(), workerKept, io)
  if (inputError) {
    io.stderr.write(`${TOOL_NAME}: ${clean(failure ?? 'invalid input')}\n(run with --help for every flag)\n`)
    return ExitCode.Usage
  }
  if (written?.interrupted?.kind === 'cancelled') return ExitCode.Cancelled
  if (failure) io.stderr.write(`${clean(failure)}\n`)
  return failure ? ExitCode.Fail : ExitCode.Pass
}

/** Removes the run's folder, or says where it stays (and why). */
function endRunFolder(runId: string, keep: boolean, workerKept: boolean, io: CliIo): void {
  if (!keep) {
    removeRunFolder(runId)
    return
  }
  const folder = path.join(runsRoot(), runId)
  if (existsSync(folder)) io.stderr.write(`Run folder kept: ${folder} (${workerKept ? "the kept worker's output, " : ''}worker log, report.json)\n`)
}
