// `celery-foundation-gates sql`: prints the schema a least-privilege worker needs for the
// installed Celery, kombu and SQLAlchemy and the app's transport — read from the packages' own
// models in the bootstrap's `sql` mode (schema-probe.ts), rendered by render.ts. The SQL goes to
// stdout, every message to stderr; exit codes as the gates command's (0, 1, 2).
import type { Writable } from 'node:stream'
import { Command, Option } from 'commander'
import { Inputs, TOOL_NAME } from '../constants.js'
import { INPUTS } from '../inputs.js'
import { SecretRegistry, registerEnvironmentSecrets } from '../secrets.js'
import { InputError, parseSettings } from '../settings.js'
import { quoteGiven } from '../util/quote.js'
import { scrubCredentials } from '../util/scrub.js'
import { renderSql, type TransportChoice } from './render.js'
import { probeSchema } from './schema-probe.js'

const ExitCode = { Pass: 0, Fail: 1, Usage: 2 } as const
const DEFAULT_TIMEOUT_S = 60

interface SqlOptions {
  app?: string
  python?: string
  workingDirectory?: string
  role?: string
  owner?: string
  transport: string
  timeout: string
}

export interface SqlIo {
  stdout: Writable
  stderr: Writable
}

function buildSqlCommand(): Command {
  return new Command(`${TOOL_NAME} sql`)
    .description(
      "Prints the schema a least-privilege Celery worker needs for the installed Celery, kombu and SQLAlchemy: the DDL SQLAlchemy itself would emit for the broker and result tables (sequences, tables, indexes; idempotent), created by the owner role, then the worker role's grants. It imports the app as the worker would, and connects to no database itself."
    )
    .helpOption('-h, --help', 'show this help')
    .showHelpAfterError('(run with --help for every flag)')
    .allowExcessArguments(false)
    .option('--app <module>', INPUTS[Inputs.App].summary)
    .option('--working-directory <dir>', `${INPUTS[Inputs.WorkingDirectory].summary} (default: .)`)
    .option('--python <python>', `${INPUTS[Inputs.Python].summary} (default: python3)`)
    .option('--owner <role>', 'the role that creates, and so owns, the tables (SET ROLE): a migration role, NOLOGIN')
    .option('--role <role>', "the worker's role, granted DML on the tables (what the db-access gate checks)")
    .addOption(
      new Option('--transport <name>', "the broker's tables: auto (from the app's broker URL), sqla (kombu's tables), pgmq")
        .choices(['auto', 'sqla', 'pgmq'])
        .default('auto')
    )
    .option('--timeout <seconds>', 'how long the app may take to import', String(DEFAULT_TIMEOUT_S))
    .addHelpText(
      'after',
      `
Exit codes: 0 the schema was printed, 1 the app did not import (or its models could not be read),
2 a flag is missing or wrong.

Example:
  DATABASE_URL=postgresql://localhost/app npx ${TOOL_NAME} sql --app app.celery_app \\
    --working-directory examples/tenant-app --python "$PWD/.venv/bin/python" \\
    --owner migrator --role app_user > celery-schema.sql
  psql -v ON_ERROR_STOP=1 -d app -f celery-schema.sql`
    )
}

/** A role name PostgreSQL accepts: 1–63 bytes, no control character (it is quoted in the SQL). */
function checkRole(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  if (!value || Buffer.byteLength(value) > 63 || /[\u0000-\u001f]/.test(value))
    throw new Error(`--${flag}: expected a PostgreSQL role name (1 to 63 bytes, no control characters), got ${quoteGiven(value)}`)
  return value
}

function checkTimeout(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN
  if (!(n >= 1 && n <= 3600)) throw new Error(`--timeout: expected a number of seconds from 1 to 3600, got ${quoteGiven(value)}`)
  return n
}

/** Runs `sql` with its own flags (argv after `sql`); resolves to the exit code. */
export async function runSqlCommand(argv: readonly string[], io: SqlIo): Promise<number> {
  const secrets = new SecretRegistry()
  registerEnvironmentSecrets(process.env, secrets)
  // Known secrets and credential patterns: an import error may quote the app's DSN.
  const clean = (text: string): string => secrets.clean(text)
  const program = buildSqlCommand()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(scrubCredentials(s)) })
  try {
    program.parse([...argv], { from: 'user' })
  } catch (err) {
    return (err as { exitCode?: number }).exitCode === 0 ? ExitCode.Pass : ExitCode.Usage
  }
  const o = program.opts<SqlOptions>()
  const usage = (message: string): number => {
    io.stderr.write(`${TOOL_NAME} sql: ${clean(message)}\n(run with --help for every flag)\n`)
    return ExitCode.Usage
  }
  let settings: { app: string; python: string; workingDirectory: string }
  let owner: string | undefined
  let role: string | undefined
  let timeoutS: number
  try {
    if (!o.app) throw new Error('--app is required: the Celery app as given to `celery -A`, e.g. app.celery_app')
    // The same validation as the gates' inputs, with the same messages, named as flags here.
    settings = parseSettings({ [Inputs.App]: o.app, [Inputs.WorkingDirectory]: o.workingDirectory, [Inputs.Python]: o.python })
    owner = checkRole('owner', o.owner)
    role = checkRole('role', o.role)
    if (owner && role && owner === role) throw new Error(`--owner and --role are both ${quoteGiven(owner)}: the worker's role must not own its tables`)
    timeoutS = checkTimeout(o.timeout)
  } catch (err) {
    const message = err instanceof InputError ? err.message.replace(/^Input "([\w-]+)":/, '--$1:') : (err as Error).message
    return usage(message)
  }
  const outcome = await probeSchema({
    python: settings.python,
    cwd: settings.workingDirectory,
    app: settings.app,
    transport: o.transport === 'sqla' ? 'sqla' : undefined,
    timeoutMs: timeoutS * 1000
  })
  if (!outcome.ok) {
    io.stderr.write(`${TOOL_NAME} sql: ${clean(outcome.message)}\n`)
    const details = outcome.details?.trim()
    if (details) io.stderr.write(`${clean(details.split('\n').slice(-20).join('\n'))}\n`)
    return ExitCode.Fail
  }
  const r = outcome.report
  if (r.broker_error) io.stderr.write(`${TOOL_NAME} sql: warning: kombu's tables could not be read: ${clean(r.broker_error)}\n`)
  if (r.results_error) io.stderr.write(`${TOOL_NAME} sql: warning: Celery's result tables could not be read: ${clean(r.results_error)}\n`)
  io.stdout.write(renderSql(r, { app: settings.app, owner, role, transport: o.transport as TransportChoice }))
  return r.broker_error || r.results_error ? ExitCode.Fail : ExitCode.Pass
}
