// The action's inputs: the one table of their defaults and short descriptions. settings.ts fills
// an empty input with its default from here, the CLI's flags take their defaults and --help from
// here, and test/unit/inputs.test.ts holds action.yml (what the runner reads) to the same names,
// defaults and required flags. A table in code rather than action.yml read at start: a run would
// otherwise load a YAML parser before its first line (cold start).
import { Inputs, type InputName } from './constants.js'

export interface InputSpec {
  /** The default, spelled as action.yml states it; '' when there is none. */
  default: string
  /** Only `app`: the run cannot start without it. */
  required?: true
  /** One line: the CLI flag's --help text. action.yml's description says the same at length. */
  summary: string
}

export const INPUTS: Readonly<Record<InputName, InputSpec>> = {
  [Inputs.App]: { default: '', required: true, summary: 'the Celery app as given to `celery -A` (required), e.g. app.celery_app' },
  [Inputs.WorkingDirectory]: { default: '.', summary: 'where the app is importable from and where the worker runs' },
  [Inputs.Python]: {
    default: 'python3',
    summary: "interpreter that has the app's dependencies (a name on PATH, or a path; a relative path is taken from --working-directory)"
  },
  [Inputs.WorkerArgs]: { default: '', summary: 'extra worker arguments, e.g. "--pool=prefork --concurrency=2" (split like a shell, never run through one)' },
  [Inputs.WorkerEnv]: {
    default: '',
    summary: 'variables the worker gets although the rule withholds them (GITHUB_TOKEN, GH_TOKEN, INPUT_*, ACTIONS_* …), comma separated'
  },
  [Inputs.DatabaseUrl]: { default: '', summary: "DSN for the tool's own SQL checks (default: derived from the app's broker URL)" },
  [Inputs.ExpectedRole]: { default: 'app_user', summary: 'role every worker database session must use' },
  [Inputs.AllowedRoles]: {
    default: '',
    summary: 'other roles the worker may connect as besides expected-role (comma or newline separated); each is held to the same rules'
  },
  [Inputs.PingTask]: { default: 'celery.ping', summary: 'task sent for the data-plane ping' },
  [Inputs.Timeout]: { default: '60', summary: 'seconds the worker gets to answer the ping (1–3600)' },
  [Inputs.TenantTables]: { default: '', summary: 'tables that must have RLS enabled and forced (default: every table with a tenant_id column)' },
  [Inputs.FailOn]: { default: 'foundation', summary: 'foundation | any | never: what makes the exit code 1' },
  [Inputs.Junit]: { default: '', summary: 'JUnit XML reports to classify, comma-separated globs relative to the working directory' },
  [Inputs.TaxonomyRules]: { default: '', summary: 'YAML or JSON classification rules, tried before the shipped ones' },
  [Inputs.Gates]: { default: '', summary: 'gates to run, comma or space separated (default: all; dlq only with --dlq-table)' },
  [Inputs.ExpectedTasks]: { default: '', summary: 'task names the worker must have registered (the tasks gate)' },
  [Inputs.LogFields]: { default: 'level,logger,message', summary: 'fields every JSON log line must carry (the logs gate)' },
  [Inputs.DlqTable]: { default: '', summary: 'the dead-letter table (the dlq gate runs only with it)' },
  [Inputs.DlqProbeTask]: { default: '', summary: 'a task that fails on purpose; it must leave exactly one row in the dead-letter table' },
  [Inputs.KeepWorker]: { default: 'false', summary: 'leave the verified worker running afterwards (prints its pid and how to stop it)' },
  [Inputs.GithubToken]: { default: '', summary: 'token for pull-request feedback when run inside GitHub Actions (GITHUB_* variables)' },
  [Inputs.PrComment]: {
    default: 'true',
    summary: 'no pull-request comment (by default, with --github-token on a pull_request event, one comment is kept up to date)'
  },
  [Inputs.CheckRun]: { default: 'false', summary: 'with --github-token: create the check run `Celery foundation gates`' }
}

/** A yes/no input: a switch on the command line (`--keep-worker`, `--no-pr-comment`). */
export const isSwitch = (name: InputName): boolean => INPUTS[name].default === 'true' || INPUTS[name].default === 'false'
