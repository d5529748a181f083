// The action under GitHub's own local runner for actions, `npx @github/local-action` (v7), gives
// the same result as the bundle run the way the runner runs it (`node dist/index.js`).
//
// How local-action runs an action (node_modules/@github/local-action):
// - bin/local-action.js re-runs itself as `npm exec tsx <pkg>/src/index.ts -- run <args>` in the
//   current directory (the package manager comes from the action's package.json).
// - src/commands/run.ts loads the dotenv file into process.env (`override: true`): INPUT_* are the
//   inputs, anything else (GITHUB_STEP_SUMMARY, RUNNER_TEMP, DATABASE_URL …) the step's environment.
//   It finds the action's own `@actions/core` and `@actions/github` with `npm ls … --json --long`,
//   replaces `<dir>/lib/core.js` (and github.js) with its stubs through `quibble.esm` (the action's
//   package.json says "type": "module"), then `import()`s the entrypoint from source (tsx) and
//   awaits its exported `run()`. So the entrypoint is src/main.ts: src/index.ts exports nothing
//   ("does not export a run() function"), and dist/ is bundled, so its toolkit cannot be stubbed.
// - The stubs (src/stubs/core/core.ts) print `::info::…`, `::error::…`, `::set-output name=…::…`
//   to stdout and keep outputs, state and the exit code in memory: outputs are read back from the
//   `::set-output` lines; the action writes GITHUB_STEP_SUMMARY and its report file itself.
// - `core.setFailed` only records `CoreMeta.exitCode = 1`; nothing turns it into the process's exit
//   code, so `local-action run` exits 0 for a failing action too. A failed step shows as the same
//   `::error::` line the bundle prints, and the verdict and gates are compared directly.
// - It imports src/ from source, while the bundle is dist/: the two are only comparable when dist/
//   is built from the same src/ (a failure says so when dist/index.js is older than src/).
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GATE_IDS } from '../../src/constants.js'
import {
  DIST_MAIN,
  EXAMPLE_APP,
  REPO,
  inputEnv,
  leakedSecrets,
  processesOfRun,
  pythonFor,
  stepFiles,
  stepResult,
  type ActionResult
} from '../support/action.js'
import { exampleDatabase, runOnExample, type ExampleDatabase } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'

const LOCAL_ACTION = path.join(REPO, 'node_modules', '.bin', 'local-action')
/** The logic entrypoint local-action imports: it must export `run()`. */
const ENTRYPOINT = 'src/main.ts'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

/** A dotenv line dotenv@17 reads back verbatim: single quotes, no escapes inside. */
function dotenvLine(name: string, value: string): string {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`dotenv cannot carry the variable name ${JSON.stringify(name)}`)
  if (/['\r\n]/.test(value)) throw new Error(`dotenv cannot carry ${name} verbatim: ${JSON.stringify(value)}`)
  return `${name}='${value}'`
}

/** `::set-output name=<name>::<value>` lines (the stub's setOutput), printed after "Running Action". */
function stubOutputs(stdout: string): Record<string, string> {
  const out: Record<string, string> = {}
  const running = stdout.indexOf('Running Action')
  for (const line of stdout.slice(Math.max(running, 0)).split('\n')) {
    const m = /^::set-output name=([^:]+)::(.*)$/.exec(line)
    if (m) out[m[1] as string] = m[2] as string
  }
  return out
}

/**
 * Workflow commands of one kind (`::error::…`, `::error title=…::…`), as a log shows their first
 * line: the real toolkit escapes %, CR and LF (and `:` `,` in properties), the stub prints them raw.
 */
function commands(stdout: string, kind: 'error' | 'warning'): string[] {
  const unescape = (s: string): string => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%')
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(`::${kind}::`) || l.startsWith(`::${kind} `))
    .map((l) => unescape(l).split('\n')[0] as string)
}

/** Why the bundle and the source may differ without local-action being at fault. */
function staleBundleHint(): string {
  const newest = (dir: string): { file: string; mtimeMs: number } =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name))
      .map((file) => ({ file, mtimeMs: statSync(file).mtimeMs }))
      .reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a), { file: '', mtimeMs: 0 })
  const src = newest(path.join(REPO, 'src'))
  const built = existsSync(DIST_MAIN) ? statSync(DIST_MAIN).mtimeMs : 0
  return src.mtimeMs > built
    ? `\nnote: local-action runs src/ from source while the bundle is dist/index.js, built ${new Date(built).toISOString()}, before ${path.relative(REPO, src.file)} changed (${new Date(src.mtimeMs).toISOString()}): run \`npm run build\` first`
    : ''
}

/** Live processes whose command line contains `needle` (local-action's npm / tsx / node). */
function processesWith(needle: string): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      if (/\) [ZX] /.test(readFileSync(`/proc/${entry}/stat`, 'utf8'))) continue
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) found.push(Number(entry))
    } catch {
      // Exited while we looked.
    }
  }
  return found
}

interface LocalActionResult extends ActionResult {
  /** Processes of the step (by the run's marker, and local-action's own by the dotenv path) alive after it ended. */
  leftovers: number[]
}

/**
 * `local-action run <repo> src/main.ts <dotenv>` with the inputs and environment the bundle gets
 * from runOnExample (test/support/example.ts), all passed through the dotenv file.
 */
async function runLocalAction(db: ExampleDatabase, inputs: Record<string, string> = {}, env: Record<string, string> = {}): Promise<LocalActionResult> {
  const files = stepFiles()
  const dotenvFile = path.join(files.dir, 'step.env')
  const step: Record<string, string> = {
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_WORKSPACE: REPO,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_TEMP: files.runnerTemp,
    ...inputEnv({
      app: 'app.celery_app',
      'working-directory': EXAMPLE_APP,
      python: pythonFor('5.7'),
      'expected-role': db.appRole,
      timeout: '30',
      'worker-args': '--pool=solo',
      ...inputs
    }),
    DATABASE_URL: db.url,
    ...env
  }
  writeFileSync(
    dotenvFile,
    Object.entries(step)
      .map(([k, v]) => dotenvLine(k, v))
      .join('\n') + '\n',
    { mode: 0o600 }
  )

  const started = performance.now()
  // Its own process group, so that a hung run can be killed with npm, tsx and node under it
  // (node:child_process: execa's kill and timeout signal the one PID, never the group).
  const child = spawn(LOCAL_ACTION, ['run', REPO, ENTRYPOINT, dotenvFile], {
    cwd: REPO, // local-action runs `npm ls` here to find the action's @actions/* packages
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      // Plain text (chalk), and `npm exec tsx` may only use the tsx in node_modules, never the network.
      FORCE_COLOR: '0',
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false'
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const killer = setTimeout(() => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL')
    } catch {
      // Already gone.
    }
  }, 150_000)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])))
  clearTimeout(killer)
  const durationMs = performance.now() - started

  const outputs = stubOutputs(stdout)
  const result = stepResult(files, { code, signal, stdout, stderr, outputs, state: {}, durationMs })
  const leftovers = [...(result.report ? processesOfRun(result.report.runId) : []), ...processesWith(dotenvFile)]
  rmSync(dotenvFile, { force: true })
  return { ...result, leftovers }
}

interface GateRow {
  id: string
  title: string
  status: string
  evidence: string
}
const gatesOf = (r: ActionResult): GateRow[] => JSON.parse(r.outputs.gates ?? '[]') as GateRow[]

/** Evidence without what differs from run to run: run ids, task ids, timings, database names. */
function stable(evidence: string, db: ExampleDatabase): string {
  return evidence
    .replaceAll(db.database, '<db>')
    .replace(/cfg-[0-9a-f]{8}/g, '<run>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/\d+(\.\d+)? ?(ms|s)\b/g, '<time>')
}

/** The same result: verdict, failed gates, every gate's id, title and status, the same failure line. */
function expectSameResult(local: LocalActionResult, bundle: ActionResult, db: ExampleDatabase): void {
  // Without local-action's banner tables, which only repeat action.yml and the outputs.
  const log = (text: string): string =>
    text
      .split('\n')
      .filter((l) => !/^[│┌├└]/.test(l))
      .join('\n')
  const context = `local-action stdout:\n${log(local.stdout)}\nstderr:\n${local.stderr}`
  // local-action itself ran the action to its end (a crash, a missing run() export … exit 1).
  expect(local.code, context).toBe(0)
  expect(local.signal).toBeNull()
  expect(local.stdout, context).toContain('Running Action')
  // The toolkit was replaced by local-action's stubs: they print `::set-output`, the real one never does.
  expect(local.stdout).toMatch(/^::set-output name=verdict::/m)

  // Beyond this point a difference is a different result (or a stale dist/, which the hint names).
  const differs = `local-action and the bundle differ${staleBundleHint()}\n${context}\nbundle stdout:\n${bundle.stdout}`
  expect(local.outputs.verdict, differs).toBe(bundle.outputs.verdict)
  expect(local.outputs['failed-gates'], differs).toBe(bundle.outputs['failed-gates'])
  const localGates = gatesOf(local)
  const bundleGates = gatesOf(bundle)
  expect(
    localGates.map(({ id, title, status }) => ({ id, title, status })),
    differs
  ).toEqual(bundleGates.map(({ id, title, status }) => ({ id, title, status })))
  // What explains a gate that did not pass is the same too.
  const unpassed = (gates: GateRow[]): Record<string, string> =>
    Object.fromEntries(gates.filter((g) => g.status !== 'pass').map((g) => [g.id, stable(g.evidence, db)]))
  expect(unpassed(localGates), differs).toEqual(unpassed(bundleGates))

  // The report file and the job summary are the action's own writes, under local-action too.
  expect(local.report?.verdict, differs).toBe(bundle.report?.verdict)
  expect(
    local.report?.gates.map((g) => [g.id, g.status]),
    differs
  ).toEqual(bundle.report?.gates.map((g) => [g.id, g.status]))
  expect(local.summary).toContain('Celery foundation gates')

  // The same annotations and, for a failing step, the same `::error::` line of core.setFailed.
  expect(commands(local.stdout, 'error'), differs).toEqual(commands(bundle.stdout, 'error'))
  expect(commands(local.stdout, 'warning'), differs).toEqual(commands(bundle.stdout, 'warning'))

  // Nothing leaks, and nothing of the step outlives it: not the worker, not local-action's npm/tsx/node.
  expect(leakedSecrets(local, [db.password, encodeURIComponent(db.password), db.url])).toEqual([])
  expect(local.leftovers).toEqual([])
}

describe("the action under `local-action run` (GitHub's local runner for actions)", () => {
  it('passes every gate on the example app, as the bundle does', async () => {
    const db = await exampleDatabase(pg)
    const bundle = await runOnExample('5.7', db)
    expect(bundle.code, bundle.stdout + bundle.stderr).toBe(0)
    const local = await runLocalAction(db)
    console.info(`local-action run: ${Math.round(local.durationMs)} ms; node dist/index.js: ${Math.round(bundle.durationMs)} ms`)

    expectSameResult(local, bundle, db)
    expect(local.outputs.verdict).toBe('pass')
    expect(local.outputs['failed-gates']).toBe('')
    expect(gatesOf(local).map((g) => g.id)).toEqual(GATE_IDS.filter((g) => g !== 'dlq'))
    for (const g of gatesOf(local)) expect(g.status, g.id).toBe('pass')
    expect(commands(local.stdout, 'error')).toEqual([])
  })

  it('fails runtime when the database refuses the worker (wrong password), as the bundle does', async () => {
    const db = await exampleDatabase(pg)
    const wrong = `wrong-${db.password}`
    const wrongUrl = pg.url(db.database, db.appRole, wrong)
    const bundle = await runOnExample('5.7', db, { timeout: '60' }, { env: { DATABASE_URL: wrongUrl } })
    expect(bundle.code, bundle.stdout + bundle.stderr).not.toBe(0)
    const local = await runLocalAction(db, { timeout: '60' }, { DATABASE_URL: wrongUrl })
    console.info(`local-action run (failing): ${Math.round(local.durationMs)} ms; node dist/index.js: ${Math.round(bundle.durationMs)} ms`)

    expectSameResult(local, bundle, db)
    expect(local.outputs.verdict).toBe('fail')
    expect(local.outputs['failed-gates']?.split(',')).toContain('runtime')
    const runtime = gatesOf(local).find((g) => g.id === 'runtime')
    expect(runtime?.evidence).toMatch(/refused the worker's connection: password authentication failed for user "[^"]+"/)
    expect(commands(local.stdout, 'error')).toContainEqual(expect.stringMatching(/^::error::Celery foundation gates failed: .*runtime/))
    expect(leakedSecrets(local, [wrong, encodeURIComponent(wrong), wrongUrl])).toEqual([])
  })
})
