// One place where raw inputs (strings, from the runner's INPUT_* variables or the CLI's flags)
// become one typed, validated Settings object. Every rejection is one line that names the input,
// says what was expected and shows what was given.
import { statSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { GATE_IDS, Inputs, type GateId, type InputName } from './constants.js'
import { INPUTS } from './inputs.js'
import { isPostgresScheme, parseDsn, type DsnParts } from './db/dsn.js'
import { splitWorkerArgs } from './celery/worker-args.js'
import { ENV_NAME } from './celery/worker-env.js'
import type { Rule } from './taxonomy/rules.js'
import { quoteGiven } from './util/quote.js'

/** `foundation`: fail on a foundation gate; `any`: also on failing tests; `never`: report only. */
export type FailOn = 'foundation' | 'any' | 'never'

export interface Settings {
  app: string
  workingDirectory: string
  python: string
  workerArgs: string[]
  /**
   * Names of variables the worker gets although they belong to the runner or this step
   * (INPUT_*, ACTIONS_*, the step's command files, GITHUB_TOKEN …; see celery/worker-env.ts).
   */
  workerEnv: string[]
  /** Raw DSN for the action's own SQL checks; undefined = derive from the app's broker URL. */
  databaseUrl?: string
  databaseUrlParts?: DsnParts
  expectedRole: string
  /** Other roles the worker may use (allowed-roles), held to the same rules as expectedRole. */
  allowedRoles: string[]
  pingTask: string
  timeoutSeconds: number
  /** Tenant tables as given (possibly schema-qualified, possibly quoted); undefined = discover. */
  tenantTables?: string[]
  failOn: FailOn
  /** Globs of JUnit XML reports to classify; undefined = no test reports. */
  junit?: string[]
  /** The user's rules file, as given. */
  rulesFile?: string
  /**
   * The rules of that file, read by loadSettings (parseSettings reads no file: empty there).
   * They come before the shipped ones, which are loaded with the JUnit reader when tests are classified.
   */
  userRules: Rule[]
  /** The gates to run (the `gates` input); every gate when not given. */
  gates: GateId[]
  /** Task names the worker must have registered (the tasks gate). */
  expectedTasks: string[]
  /** Fields every structured log line must carry (the logs gate). */
  logFields: string[]
  /** The dead-letter table and the task that fails on purpose (the dlq gate). */
  dlqTable?: string
  dlqProbeTask?: string
  /** Leave the verified worker running for the steps that follow (the post step stops it). */
  keepWorker: boolean
  /** Token for pull-request feedback (a secret: registered before anything prints). */
  githubToken?: string
  /** With a token, on pull_request events: one comment per PR, updated on reruns. */
  prComment: boolean
  /** With a token: a check run named `Celery foundation gates` whose conclusion follows the verdict. */
  checkRun: boolean
}

export type RawInputs = Partial<Record<InputName, string>>

/** The gate a wrong input belongs to: it fails with the input's error; the others are skipped. */
export const GATE_OF_INPUT: Record<InputName, GateId> = {
  [Inputs.App]: 'import',
  [Inputs.WorkingDirectory]: 'import',
  [Inputs.Python]: 'import',
  [Inputs.WorkerArgs]: 'runtime',
  [Inputs.WorkerEnv]: 'import',
  [Inputs.PingTask]: 'runtime',
  [Inputs.Timeout]: 'runtime',
  [Inputs.DatabaseUrl]: 'db-access',
  [Inputs.ExpectedRole]: 'rls-role',
  [Inputs.AllowedRoles]: 'rls-role',
  [Inputs.TenantTables]: 'rls-role',
  [Inputs.FailOn]: 'ci',
  [Inputs.Junit]: 'ci',
  [Inputs.TaxonomyRules]: 'ci',
  [Inputs.Gates]: 'ci',
  [Inputs.ExpectedTasks]: 'tasks',
  [Inputs.LogFields]: 'logs',
  [Inputs.DlqTable]: 'dlq',
  [Inputs.DlqProbeTask]: 'dlq',
  [Inputs.KeepWorker]: 'runtime',
  [Inputs.GithubToken]: 'ci',
  [Inputs.PrComment]: 'ci',
  [Inputs.CheckRun]: 'ci'
}

export class InputError extends Error {
  constructor(
    readonly input: InputName,
    message: string
  ) {
    super(`Input "${input}": ${message}`)
    this.name = 'InputError'
  }
}

/**
 * Turns a parse function that throws plain Errors into a zod string field. An input that is empty
 * (or only whitespace) gets its default from the inputs table, as the runner would from action.yml.
 */
function field<T>(input: InputName, parse: (raw: string) => T) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      try {
        return parse((raw ?? '').trim() || INPUTS[input].default)
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message })
        return z.NEVER
      }
    })
}

// `module`, `package.module`, or `package.module:attribute`, as `celery -A` accepts them.
const PYTHON_PATH = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*)?$/
const TASK_NAME = /^[A-Za-z_][\w.:-]*$/
const MAX_TIMEOUT_SECONDS = 3600

const parseApp = (v: string): string => {
  if (!v) throw new Error('is required: the Celery app as given to `celery -A`, e.g. app.celery_app')
  if (!PYTHON_PATH.test(v)) throw new Error(`expected a Python module path like app.celery_app or pkg.module:app, got ${quoteGiven(v)}`)
  return v
}

const parseWorkingDirectory = (v: string): string => {
  const dir = path.resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), v)
  let isDir = false
  try {
    isDir = statSync(dir).isDirectory()
  } catch {
    throw new Error(`expected an existing directory, got ${quoteGiven(v)} (${dir} does not exist)`)
  }
  if (!isDir) throw new Error(`expected a directory, got ${quoteGiven(v)} (${dir} is a file)`)
  return dir
}

const parsePython = (v: string): string => {
  if (/[\u0000-\u001f]/.test(v)) throw new Error(`expected a Python interpreter name or path, got ${quoteGiven(v)}`)
  return v
}

const parseDatabaseUrl = (v: string): { url?: string; parts?: DsnParts } => {
  if (!v) return {}
  const parts = parseDsn(v)
  const scheme = parts?.scheme ?? /^([\w+.-]+):\/\//.exec(v)?.[1]?.toLowerCase()
  // node-postgres also understands the libpq spelling `postgres://`.
  if (!parts || !(isPostgresScheme(parts.scheme) || parts.scheme === 'postgres'))
    throw new Error(
      `expected a PostgreSQL DSN like postgresql://user:password@host:5432/db, got ${scheme ? `a ${scheme}:// URL` : 'something that is not a URL'}`
    )
  return { url: v, parts }
}

const parseRole = (v: string): string => {
  if (Buffer.byteLength(v) > 63 || /[\u0000]/.test(v)) throw new Error(`expected a PostgreSQL role name (at most 63 bytes), got ${quoteGiven(v)}`)
  return v
}

/**
 * Role names, comma or newline separated (a role name may contain spaces, so spaces do not
 * separate). Each is checked like expected-role; duplicates are dropped.
 */
const parseAllowedRoles = (v: string): string[] => {
  const names = v
    .split(/[\n,]/)
    .map((n) => n.trim())
    .filter(Boolean)
  for (const n of names)
    if (Buffer.byteLength(n) > 63 || /[\u0000-\u001f]/.test(n))
      throw new Error(`expected PostgreSQL role names (at most 63 bytes each), comma or newline separated, got ${quoteGiven(n)}`)
  return [...new Set(names)]
}

const parsePingTask = (v: string): string => {
  if (!TASK_NAME.test(v)) throw new Error(`expected a task name like celery.ping or app.tasks.ping, got ${quoteGiven(v)}`)
  return v
}

const parseTimeout = (v: string): number => {
  const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN
  if (!Number.isFinite(n) || n < 1 || n > MAX_TIMEOUT_SECONDS)
    throw new Error(`expected a number of seconds from 1 to ${MAX_TIMEOUT_SECONDS}, got ${quoteGiven(v)}`)
  return n
}

const parseFailOn = (v: string): FailOn => {
  const mode = v.toLowerCase()
  if (mode !== 'foundation' && mode !== 'any' && mode !== 'never') throw new Error(`expected one of foundation, any, never; got ${quoteGiven(v)}`)
  return mode
}

/** Globs, one per line or separated by commas (as most actions take path lists). */
const parseJunit = (v: string): string[] | undefined => {
  if (!v) return undefined
  const patterns = v
    .split(/[\n,]/)
    .map((p) => p.trim())
    .filter(Boolean)
  for (const p of patterns) if (/[\u0000-\u001f]/.test(p)) throw new Error(`expected file globs like reports/junit-*.xml, got ${quoteGiven(p)}`)
  return patterns.length ? patterns : undefined
}

/** A list, one item per line or separated by commas or spaces. */
const listOf = (v: string): string[] =>
  v
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean)

const parseGates = (v: string): GateId[] => {
  if (!v) return [...GATE_IDS]
  const wanted = listOf(v)
  const unknown = wanted.filter((g) => !(GATE_IDS as readonly string[]).includes(g))
  if (unknown.length) throw new Error(`expected gate ids among ${GATE_IDS.join(', ')}; got ${quoteGiven(unknown.join(', '))}`)
  // In matrix order, whatever order they were given in.
  return GATE_IDS.filter((g) => wanted.includes(g))
}

const parseExpectedTasks = (v: string): string[] => {
  const names = listOf(v)
  for (const n of names) if (!TASK_NAME.test(n)) throw new Error(`expected task names like app.tasks.ping, got ${quoteGiven(n)}`)
  return names
}

const parseLogFields = (v: string): string[] => {
  const fields = listOf(v)
  for (const f of fields) if (!/^[\w.@-]+$/.test(f)) throw new Error(`expected JSON field names like level,logger,message; got ${quoteGiven(f)}`)
  return fields
}

const parseOptionalTable = (v: string): string | undefined => {
  if (!v) return undefined
  if (/[\u0000-\u001f]/.test(v) || v.length > 200) throw new Error(`expected a table name like worker_failed_jobs, got ${quoteGiven(v)}`)
  return v
}

const parseOptionalTask = (v: string): string | undefined => (v ? parsePingTask(v) : undefined)

/** YAML 1.2's booleans, as @actions/core's getBooleanInput reads them. */
const parseBoolean = (v: string): boolean => {
  if (!v || ['false', 'False', 'FALSE'].includes(v)) return false
  if (['true', 'True', 'TRUE'].includes(v)) return true
  throw new Error(`expected true or false, got ${quoteGiven(v)}`)
}

// The file is read by loadSettings, once every input is well-formed.
const parseTaxonomyRules = (v: string): string | undefined => v || undefined

/**
 * Splits a list on commas and newlines, but not inside double-quoted identifiers. With an unclosed
 * quote there is no telling where a name ends: the entry it is in ends at its first comma or
 * newline, and the rest is split again. That entry is then reported as not a table name (a
 * finding of rls-role), while the others are still used.
 */
export function splitIdentifierList(v: string): string[] {
  const out: string[] = []
  let current = ''
  let quoted = false
  for (const ch of v) {
    if (ch === '"') quoted = !quoted
    if (!quoted && (ch === ',' || ch === '\n')) {
      if (current.trim()) out.push(current.trim())
      current = ''
      continue
    }
    current += ch
  }
  const end = quoted ? current.search(/[,\n]/) : -1
  if (end >= 0) {
    if (current.slice(0, end).trim()) out.push(current.slice(0, end).trim())
    return [...out, ...splitIdentifierList(current.slice(end + 1))]
  }
  if (current.trim()) out.push(current.trim())
  return out
}

const parseTenantTables = (v: string): string[] | undefined => {
  if (!v) return undefined
  const names = splitIdentifierList(v)
  for (const name of names) {
    if (/[\u0000-\u001f]/.test(name) || name.length > 200)
      throw new Error(`expected table names like invoices or public."Weird-Table", got ${quoteGiven(name)}`)
  }
  return names
}

/** Never echoed: a token is a secret, so the error says what is wrong without showing it. */
const parseToken = (v: string): string | undefined => {
  if (!v) return undefined
  if (/[\s\u0000-\u001f]/.test(v)) throw new Error('expected a GitHub token (one word, no spaces or line breaks), got a value with whitespace (not shown)')
  return v
}

const parseWorkerArgsInput = (v: string): string[] => splitWorkerArgs(v)

/** Variable names, comma or newline separated: names only, never `NAME=value`. */
const parseWorkerEnv = (v: string): string[] => {
  const names = v
    .split(/[\n,]/)
    .map((n) => n.trim())
    .filter(Boolean)
  for (const n of names)
    if (!ENV_NAME.test(n))
      throw new Error(
        `expected environment variable names like GITHUB_TOKEN or APP_SECRET (comma or newline separated), got ${n.includes('=') ? 'a NAME=value pair (value not shown); give the name only' : quoteGiven(n)}`
      )
  return [...new Set(names)]
}

const SettingsSchema = z.object({
  [Inputs.App]: field(Inputs.App, parseApp),
  [Inputs.WorkingDirectory]: field(Inputs.WorkingDirectory, parseWorkingDirectory),
  [Inputs.Python]: field(Inputs.Python, parsePython),
  [Inputs.WorkerArgs]: field(Inputs.WorkerArgs, parseWorkerArgsInput),
  [Inputs.WorkerEnv]: field(Inputs.WorkerEnv, parseWorkerEnv),
  [Inputs.DatabaseUrl]: field(Inputs.DatabaseUrl, parseDatabaseUrl),
  [Inputs.ExpectedRole]: field(Inputs.ExpectedRole, parseRole),
  [Inputs.AllowedRoles]: field(Inputs.AllowedRoles, parseAllowedRoles),
  [Inputs.PingTask]: field(Inputs.PingTask, parsePingTask),
  [Inputs.Timeout]: field(Inputs.Timeout, parseTimeout),
  [Inputs.TenantTables]: field(Inputs.TenantTables, parseTenantTables),
  [Inputs.FailOn]: field(Inputs.FailOn, parseFailOn),
  [Inputs.Junit]: field(Inputs.Junit, parseJunit),
  [Inputs.TaxonomyRules]: field(Inputs.TaxonomyRules, parseTaxonomyRules),
  [Inputs.Gates]: field(Inputs.Gates, parseGates),
  [Inputs.ExpectedTasks]: field(Inputs.ExpectedTasks, parseExpectedTasks),
  [Inputs.LogFields]: field(Inputs.LogFields, parseLogFields),
  [Inputs.DlqTable]: field(Inputs.DlqTable, parseOptionalTable),
  [Inputs.DlqProbeTask]: field(Inputs.DlqProbeTask, parseOptionalTask),
  [Inputs.KeepWorker]: field(Inputs.KeepWorker, parseBoolean),
  [Inputs.GithubToken]: field(Inputs.GithubToken, parseToken),
  [Inputs.PrComment]: field(Inputs.PrComment, parseBoolean),
  [Inputs.CheckRun]: field(Inputs.CheckRun, parseBoolean)
})

/**
 * The settings of a run: every input validated, then the files they name read. Throws InputError
 * for the first input (in contract order) that is wrong; a rules file that cannot be read or is
 * not valid is reported once every input is well-formed.
 */
export async function loadSettings(raw: RawInputs): Promise<Settings> {
  const settings = parseSettings(raw)
  if (!settings.rulesFile) return settings
  // On demand: the YAML parser is a third of what a run would otherwise load at start.
  const { loadRulesFile } = await import('./taxonomy/rules-file.js')
  try {
    return { ...settings, userRules: loadRulesFile(path.resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), settings.rulesFile)) }
  } catch (e) {
    throw new InputError(Inputs.TaxonomyRules, `expected a YAML or JSON rules file: ${(e as Error).message}`)
  }
}

/** Validates raw inputs, reading no file; throws InputError for the first input (in contract order) that is wrong. */
export function parseSettings(raw: RawInputs): Settings {
  const result = SettingsSchema.safeParse(raw)
  if (!result.success) {
    const issue = result.error.issues[0]
    const input = (issue?.path[0] ?? Inputs.App) as InputName
    throw new InputError(input, issue?.message ?? 'is invalid')
  }
  const s = result.data
  // dlq needs a dead-letter table to check, so it is on by default only when dlq-table is set.
  // Asked for by name without one, it runs and skips, saying how to turn it on.
  const gates = raw[Inputs.Gates]?.trim() || s[Inputs.DlqTable] ? s[Inputs.Gates] : s[Inputs.Gates].filter((g) => g !== 'dlq')
  return {
    app: s[Inputs.App],
    workingDirectory: s[Inputs.WorkingDirectory],
    python: s[Inputs.Python],
    workerArgs: s[Inputs.WorkerArgs],
    workerEnv: s[Inputs.WorkerEnv],
    databaseUrl: s[Inputs.DatabaseUrl].url,
    databaseUrlParts: s[Inputs.DatabaseUrl].parts,
    expectedRole: s[Inputs.ExpectedRole],
    allowedRoles: s[Inputs.AllowedRoles],
    pingTask: s[Inputs.PingTask],
    timeoutSeconds: s[Inputs.Timeout],
    tenantTables: s[Inputs.TenantTables],
    failOn: s[Inputs.FailOn],
    junit: s[Inputs.Junit],
    rulesFile: s[Inputs.TaxonomyRules],
    userRules: [],
    gates,
    expectedTasks: s[Inputs.ExpectedTasks],
    logFields: s[Inputs.LogFields],
    dlqTable: s[Inputs.DlqTable],
    dlqProbeTask: s[Inputs.DlqProbeTask],
    keepWorker: s[Inputs.KeepWorker],
    githubToken: s[Inputs.GithubToken],
    prComment: s[Inputs.PrComment],
    checkRun: s[Inputs.CheckRun]
  }
}
