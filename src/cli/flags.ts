// The action's inputs as command-line flags: one flag per input, with the same name and the same
// default (a unit test holds this table to action.yml), plus the flags only a terminal needs.
import { Inputs, type InputName } from '../constants.js'
import type { RawInputs } from '../settings.js'

export interface InputFlag {
  /** Placeholder in --help (`--timeout <seconds>`); absent for a switch. */
  value?: string
  /** The input's default as action.yml states it; shown in --help. */
  default?: string
  help: string
}

export const INPUT_FLAGS: Readonly<Record<InputName, InputFlag>> = {
  [Inputs.App]: { value: 'module', help: 'the Celery app as given to `celery -A` (required), e.g. app.celery_app' },
  [Inputs.WorkingDirectory]: { value: 'dir', default: '.', help: 'where the app is importable from and where the worker runs' },
  [Inputs.Python]: { value: 'python', default: 'python3', help: "interpreter that has the app's dependencies (a name on PATH, or a path; a relative path is taken from --working-directory)" },
  [Inputs.WorkerArgs]: { value: 'args', help: 'extra worker arguments, e.g. "--pool=prefork --concurrency=2" (split like a shell, never run through one)' },
  [Inputs.WorkerEnv]: { value: 'names', help: 'variables the worker gets although the rule withholds them (GITHUB_TOKEN, GH_TOKEN, INPUT_*, ACTIONS_* …), comma separated' },
  [Inputs.DatabaseUrl]: { value: 'dsn', help: "DSN for the tool's own SQL checks (default: derived from the app's broker URL)" },
  [Inputs.ExpectedRole]: { value: 'role', default: 'app_user', help: 'role every worker database session must use' },
  [Inputs.PingTask]: { value: 'task', default: 'celery.ping', help: 'task sent for the data-plane ping' },
  [Inputs.Timeout]: { value: 'seconds', default: '60', help: 'seconds the worker gets to answer the ping (1–3600)' },
  [Inputs.TenantTables]: { value: 'tables', help: 'tables that must have RLS enabled and forced (default: every table with a tenant_id column)' },
  [Inputs.FailOn]: { value: 'mode', default: 'foundation', help: 'foundation | any | never: what makes the exit code 1' },
  [Inputs.Junit]: { value: 'globs', help: 'JUnit XML reports to classify, comma-separated globs relative to the working directory' },
  [Inputs.TaxonomyRules]: { value: 'file', help: 'YAML or JSON classification rules, tried before the shipped ones' },
  [Inputs.Gates]: { value: 'ids', help: 'gates to run, comma or space separated (default: all; dlq only with --dlq-table)' },
  [Inputs.ExpectedTasks]: { value: 'names', help: 'task names the worker must have registered (the tasks gate)' },
  [Inputs.LogFields]: { value: 'fields', default: 'level,logger,message', help: 'fields every JSON log line must carry (the logs gate)' },
  [Inputs.DlqTable]: { value: 'table', help: 'the dead-letter table (the dlq gate runs only with it)' },
  [Inputs.DlqProbeTask]: { value: 'task', help: 'a task that fails on purpose; it must leave exactly one row in the dead-letter table' },
  [Inputs.KeepWorker]: { default: 'false', help: 'leave the verified worker running afterwards (prints its pid and how to stop it)' },
  [Inputs.GithubToken]: { value: 'token', help: 'token for pull-request feedback when run inside GitHub Actions (GITHUB_* variables)' },
  [Inputs.PrComment]: { default: 'true', help: 'no pull-request comment (by default, with --github-token on a pull_request event, one comment is kept up to date)' },
  [Inputs.CheckRun]: { default: 'false', help: 'with --github-token: create the check run `Celery foundation gates`' }
}

/** commander's attribute name for a flag: `working-directory` → `workingDirectory`. */
export function attributeOf(input: string): string {
  return input.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())
}

/**
 * Parsed flags back to the raw strings the runner would pass: the one validation (settings.ts)
 * then judges both the same way, with the same one-line errors.
 */
export function rawInputsFromFlags(options: Record<string, unknown>): RawInputs {
  const raw: RawInputs = {}
  for (const input of Object.keys(INPUT_FLAGS) as InputName[]) {
    const value = options[attributeOf(input)]
    if (typeof value === 'string') raw[input] = value
    else if (typeof value === 'boolean') raw[input] = String(value)
  }
  return raw
}
