// Runs the bundled action the way the runner does: `node dist/index.js` with INPUT_* variables
// and the file commands (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_STATE) pointing at temp
// files, then reads back everything the action left: exit code, streams, outputs, summary, state,
// report, worker log.
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import type { RunReport } from '../../src/report/model.js'

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const DIST_MAIN = path.join(REPO, 'dist', 'index.js')
export const DIST_POST = path.join(REPO, 'dist', 'post.js')
export const EXAMPLE_APP = path.join(REPO, 'examples', 'tenant-app')

export const CELERY_VERSIONS = {
  '5.7': path.join(REPO, '.venv', 'celery-5.7', 'bin', 'python'),
  '5.2': path.join(REPO, '.venv', 'celery-5.2', 'bin', 'python')
} as const
export type CeleryVersion = keyof typeof CELERY_VERSIONS

export function pythonFor(version: CeleryVersion): string {
  const python = CELERY_VERSIONS[version]
  if (!existsSync(python)) throw new Error(`${python} is missing: run scripts/setup-python.sh first`)
  return python
}

export interface ActionResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  state: Record<string, string>
  report?: RunReport
  reportText: string
  workerLog: string
  durationMs: number
  runnerTemp: string
}

export interface RunOptions {
  /** Environment for the step (the app's DATABASE_URL etc.). */
  env?: Record<string, string>
  /** Reuse the state file of an earlier run (for the post step). */
  files?: StepFiles
  script?: string
  /** Node binary to run the bundle with (default: the one running the tests). */
  node?: string
  /** Hand the state saved by an earlier step to this one as STATE_* variables, as the runner does for `post`. */
  passState?: boolean
  /** Called once the process runs, e.g. to signal it. */
  onSpawn?: (child: ChildProcess, files: StepFiles) => void
  /** Hard limit for the test itself, far above any timeout the action is given. */
  killAfterMs?: number
}

export interface StepFiles {
  dir: string
  output: string
  summary: string
  state: string
  runnerTemp: string
}

export function stepFiles(): StepFiles {
  const dir = mkdtempSync(path.join(tmpdir(), 'cfg-step-'))
  const files = {
    dir,
    output: path.join(dir, 'output'),
    summary: path.join(dir, 'summary.md'),
    state: path.join(dir, 'state'),
    runnerTemp: path.join(dir, 'runner-temp')
  }
  for (const f of [files.output, files.summary, files.state]) writeFileSync(f, '')
  return files
}

/** Reads the `name<<delimiter … delimiter` file-command format. */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i] as string)
    if (!m) continue
    const [, name, delimiter] = m as unknown as [string, string, string]
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] as string)
    out[name] = value.join('\n')
  }
  return out
}

export function inputEnv(inputs: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  // @actions/core reads INPUT_<NAME>: upper case, spaces as underscores, hyphens kept.
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v
  return env
}

function stateEnv(files: StepFiles): Record<string, string> {
  const state = parseFileCommands(readFileSync(files.state, 'utf8'))
  return Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v]))
}

export async function runAction(inputs: Record<string, string>, options: RunOptions = {}): Promise<ActionResult> {
  const files = options.files ?? stepFiles()
  const started = performance.now()
  const child = execa(options.node ?? process.execPath, [options.script ?? DIST_MAIN], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_WORKSPACE: REPO,
      GITHUB_OUTPUT: files.output,
      GITHUB_STEP_SUMMARY: files.summary,
      GITHUB_STATE: files.state,
      RUNNER_TEMP: files.runnerTemp,
      ...inputEnv(inputs),
      ...(options.passState ? stateEnv(files) : {}),
      ...options.env
    },
    extendEnv: false,
    stdin: 'ignore',
    stripFinalNewline: false,
    timeout: options.killAfterMs ?? 150_000,
    killSignal: 'SIGKILL',
    // The signals a test sends through onSpawn (SIGINT, SIGTERM, as the runner does) stay alone:
    // execa would otherwise follow its kill signal with another after 5 s.
    forceKillAfterDelay: false,
    reject: false
  })
  options.onSpawn?.(child, files)
  const { exitCode, signal: exitSignal, stdout, stderr } = await child
  const code = exitCode ?? null
  const signal = (exitSignal as NodeJS.Signals | undefined) ?? null
  const outputs = parseFileCommands(readFileSync(files.output, 'utf8'))
  const state = parseFileCommands(readFileSync(files.state, 'utf8'))
  return stepResult(files, { code, signal, stdout, stderr, outputs, state, durationMs: performance.now() - started })
}

/** A finished step as the tests read it: what it printed and set, plus the files it wrote. */
export function stepResult(
  files: StepFiles,
  step: Pick<ActionResult, 'code' | 'signal' | 'stdout' | 'stderr' | 'outputs' | 'state' | 'durationMs'>
): ActionResult {
  const reportPath = step.outputs.report
  const reportText = reportPath && existsSync(reportPath) ? readFileSync(reportPath, 'utf8') : ''
  const report = reportText ? (JSON.parse(reportText) as RunReport) : undefined
  const logFile = report?.worker?.logFile
  return {
    ...step,
    summary: readFileSync(files.summary, 'utf8'),
    report,
    reportText,
    workerLog: logFile && existsSync(logFile) ? readFileSync(logFile, 'utf8') : '',
    runnerTemp: files.runnerTemp
  }
}

export function gate(result: ActionResult, id: string): { status: string; evidence: string } {
  const gates = JSON.parse(result.outputs.gates ?? '[]') as Array<{ id: string; status: string; evidence: string }>
  const g = gates.find((x) => x.id === id)
  if (!g) throw new Error(`gate ${id} missing from outputs: ${result.outputs.gates ?? '(no gates output)'}\nstderr: ${result.stderr}`)
  return g
}

/**
 * Every place a secret could leak to. `::add-mask::` lines are excluded from stdout: they are how
 * a secret is registered with the runner, which removes them from the log.
 */
export function leakedSecrets(result: ActionResult, secrets: string[]): string[] {
  const stdout = result.stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n')
  const places: Record<string, string> = {
    stdout,
    stderr: result.stderr,
    summary: result.summary,
    outputs: JSON.stringify(result.outputs),
    report: result.reportText,
    'worker log': result.workerLog
  }
  const leaks: string[] = []
  for (const secret of secrets)
    for (const [where, text] of Object.entries(places)) if (text.includes(secret)) leaks.push(`${where} contains ${JSON.stringify(secret)}`)
  return leaks
}

/**
 * Processes still carrying a run's marker, read from the process table (not from the action):
 * /proc/<pid>/environ of every process, plus any process whose command line is the bootstrap.
 */
export function processesOfRun(runId: string): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (/\) [ZX] /.test(stat)) continue
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8')
      if (environ.split('\0').includes(`CELERY_FOUNDATION_GATES_RUN=${runId}`)) found.push(Number(entry))
    } catch {
      // Exited while we looked.
    }
  }
  return found
}

/** Every live process started from the action's bootstrap, of any run. */
export function bootstrapProcesses(): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('bootstrap.py') && readlinkSync(`/proc/${entry}/cwd`)) found.push(Number(entry))
    } catch {
      // Exited while we looked.
    }
  }
  return found
}
