// The action's inputs as command-line flags: one flag per input, with the same name, default and
// help as the inputs table (src/inputs.ts, which a unit test holds to action.yml).
import { Inputs, type InputName } from '../constants.js'
import { INPUTS, isSwitch } from '../inputs.js'
import type { RawInputs } from '../settings.js'

export interface InputFlag {
  /** Placeholder in --help (`--timeout <seconds>`); absent for a switch. */
  value?: string
  /** The input's default as action.yml states it; shown in --help. */
  default?: string
  help: string
}

/** The --help placeholder of each input that takes a value (the yes/no inputs are switches). */
const PLACEHOLDERS: Readonly<Record<InputName, string>> = {
  [Inputs.App]: 'module',
  [Inputs.WorkingDirectory]: 'dir',
  [Inputs.Python]: 'python',
  [Inputs.WorkerArgs]: 'args',
  [Inputs.WorkerEnv]: 'names',
  [Inputs.DatabaseUrl]: 'dsn',
  [Inputs.ExpectedRole]: 'role',
  [Inputs.AllowedRoles]: 'roles',
  [Inputs.PingTask]: 'task',
  [Inputs.Timeout]: 'seconds',
  [Inputs.TenantTables]: 'tables',
  [Inputs.FailOn]: 'mode',
  [Inputs.Junit]: 'globs',
  [Inputs.TaxonomyRules]: 'file',
  [Inputs.Gates]: 'ids',
  [Inputs.ExpectedTasks]: 'names',
  [Inputs.LogFields]: 'fields',
  [Inputs.DlqTable]: 'table',
  [Inputs.DlqProbeTask]: 'task',
  [Inputs.KeepWorker]: '',
  [Inputs.GithubToken]: 'token',
  [Inputs.PrComment]: '',
  [Inputs.CheckRun]: ''
}

/** One flag per input, its default and help read from the inputs table (src/inputs.ts). */
export const INPUT_FLAGS: Readonly<Record<InputName, InputFlag>> = Object.fromEntries(
  (Object.keys(INPUTS) as InputName[]).map((input): [InputName, InputFlag] => {
    const { default: given, summary } = INPUTS[input]
    const flag: InputFlag = { help: summary }
    if (!isSwitch(input)) flag.value = PLACEHOLDERS[input]
    if (given) flag.default = given
    return [input, flag]
  })
) as Record<InputName, InputFlag>

/** commander's attribute name for a flag: `working-directory` → `workingDirectory`. */
function attributeOf(input: string): string {
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
