// What the worker — pull-request code — is given: the bundled action with the runner's
// credentials, its own inputs and the step's command files in its environment, on an app whose
// import writes the names (never the values) of the variables it sees. None of the runner's or the
// step's may reach it; the app's own do; `worker-env` passes a named one through.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exampleArgs, runCli } from '../support/cli.js'
import { exampleDatabase, runOnExample, type ExampleDatabase } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'

const GROUP = 'Trust'
const TOKEN = 'ghs_fakeInputToken0123456789abcdefABCDEF'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

/** What the runner hands a node action besides its inputs (values made up, shapes real). */
function runnerEnv(dir: string): Record<string, string> {
  const file = (name: string): string => {
    const f = path.join(dir, name)
    writeFileSync(f, '')
    return f
  }
  return {
    ACTIONS_RUNTIME_TOKEN: 'runtime-token-secret-value',
    ACTIONS_RUNTIME_URL: 'https://pipelines.example.invalid/abc/',
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-request-token-secret-value',
    ACTIONS_ID_TOKEN_REQUEST_URL: 'https://oidc.example.invalid/token',
    ACTIONS_CACHE_URL: 'https://cache.example.invalid/',
    ACTIONS_RESULTS_URL: 'https://results.example.invalid/',
    GITHUB_ENV: file('set_env'),
    GITHUB_PATH: file('add_path'),
    GITHUB_TOKEN: 'ghs_envTokenFromTheWorkflow0123456789ab',
    GH_TOKEN: 'ghs_ghCliTokenFromTheWorkflow012345678',
    STATE_leftover: 'x',
    // The app's own.
    APP_CUSTOM_SETTING: 'on'
  }
}

/** Names that belong to the runner or to this step: none may reach the worker unless named. */
const WITHHELD = [
  'INPUT_APP',
  'INPUT_GITHUB-TOKEN',
  'INPUT_DATABASE-URL',
  'INPUT_PR-COMMENT',
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_RUNTIME_URL',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
  'ACTIONS_CACHE_URL',
  'ACTIONS_RESULTS_URL',
  'GITHUB_STATE',
  'GITHUB_OUTPUT',
  'GITHUB_ENV',
  'GITHUB_PATH',
  'GITHUB_STEP_SUMMARY',
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'STATE_leftover'
]
/** What a `run:` step gets too, the app's own, and what the worker needs from the action. */
const KEPT = [
  'DATABASE_URL',
  'APP_CUSTOM_SETTING',
  'GITHUB_WORKSPACE',
  'GITHUB_EVENT_NAME',
  'RUNNER_TEMP',
  'PATH',
  'HOME',
  'ENV_PROBE_FILE',
  'PGAPPNAME',
  'PYTHONUNBUFFERED',
  'CELERY_FOUNDATION_GATES_RUN'
]

async function probeRun(
  db: ExampleDatabase,
  inputs: Record<string, string>
): Promise<{ names: string[]; result: Awaited<ReturnType<typeof runOnExample>>; env: Record<string, string> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cfg-env-probe-'))
  const probeFile = path.join(dir, 'names.txt')
  const env = { ...runnerEnv(dir), ENV_PROBE_FILE: probeFile }
  const result = await runOnExample(
    '5.7',
    db,
    { app: 'app.variants.env_probe', gates: 'import, runtime, ci', 'database-url': db.url, 'github-token': TOKEN, 'pr-comment': 'false', ...inputs },
    { env }
  )
  let names: string[] = []
  try {
    names = readFileSync(probeFile, 'utf8').split('\n').filter(Boolean)
  } catch {
    // The app never imported: the assertions below say so.
  }
  return { names, result, env }
}

const secrets = (db: ExampleDatabase, env: Record<string, string>): string[] => [
  db.password,
  encodeURIComponent(db.password),
  TOKEN,
  env.ACTIONS_RUNTIME_TOKEN as string,
  env.ACTIONS_ID_TOKEN_REQUEST_TOKEN as string
]

describe("the worker gets the job's environment, not the runner's or the step's", () => {
  it("withholds INPUT_*, ACTIONS_*, STATE_*, the command files and the tokens; keeps the app's own", async () => {
    const db = await exampleDatabase(pg)
    const { names, result, env } = await probeRun(db, {})
    expect(names.length, `the app wrote no names\n${result.stderr.slice(-2000)}`).toBeGreaterThan(0)
    expect(
      WITHHELD.filter((n) => names.includes(n)),
      'reached the worker'
    ).toEqual([])
    expect(
      KEPT.filter((n) => !names.includes(n)),
      'missing in the worker'
    ).toEqual([])
    // Nothing of any INPUT_ or ACTIONS_ at all, whatever the runner adds next.
    expect(names.filter((n) => /^(INPUT_|ACTIONS_)/.test(n))).toEqual([])
    checkStep(
      GROUP,
      'the worker gets no runner credential, input or step command file',
      result,
      { code: 0, gates: { import: 'pass', runtime: 'pass' }, timeoutS: 30, secrets: secrets(db, env) },
      `with INPUT_GITHUB-TOKEN, INPUT_DATABASE-URL, ACTIONS_RUNTIME_TOKEN, the OIDC request token and URL, GITHUB_TOKEN, GH_TOKEN, GITHUB_STATE/OUTPUT/ENV/PATH/STEP_SUMMARY set, the app's import sees none of them (${WITHHELD.length} names checked) but DATABASE_URL and its own APP_ variable; the gates pass`
    )
  })

  it('passes a variable named in worker-env through, and only that one', async () => {
    const db = await exampleDatabase(pg)
    const { names, result, env } = await probeRun(db, { 'worker-env': 'GITHUB_TOKEN' })
    expect(names, `the app wrote no names\n${result.stderr.slice(-2000)}`).toContain('GITHUB_TOKEN')
    expect(
      WITHHELD.filter((n) => n !== 'GITHUB_TOKEN' && names.includes(n)),
      'reached the worker'
    ).toEqual([])
    // The summary's inputs say what the worker was given beyond the rule.
    expect(result.report?.settings?.['worker-env']).toBe('GITHUB_TOKEN')
    checkStep(
      GROUP,
      '`worker-env: GITHUB_TOKEN` passes that variable to the worker',
      result,
      { code: 0, gates: { import: 'pass', runtime: 'pass' }, timeoutS: 30, secrets: secrets(db, env) },
      'the app sees GITHUB_TOKEN, still none of the other runner or step variables; the gates pass'
    )
  })
})

describe('the CLI applies the same rule', () => {
  it("keeps a shell's GITHUB_TOKEN from the worker, unless --worker-env names it", async () => {
    const db = await exampleDatabase(pg)
    const cli = async (extra: string[]): Promise<string[]> => {
      const probeFile = path.join(mkdtempSync(path.join(tmpdir(), 'cfg-env-probe-')), 'names.txt')
      const run = await runCli([...exampleArgs(db, 'app.variants.env_probe'), '--gates', 'import,runtime', ...extra], {
        DATABASE_URL: db.url,
        GITHUB_TOKEN: 'ghs_shellToken0123456789',
        GH_TOKEN: 'ghs_shell2',
        ENV_PROBE_FILE: probeFile
      })
      const exitCode = run.code
      expect(exitCode).toBe(0)
      return readFileSync(probeFile, 'utf8').split('\n').filter(Boolean)
    }
    const plain = await cli([])
    expect(plain).toContain('DATABASE_URL')
    expect(plain.filter((n) => n === 'GITHUB_TOKEN' || n === 'GH_TOKEN')).toEqual([])
    const passed = await cli(['--worker-env', 'GITHUB_TOKEN'])
    expect(passed.filter((n) => n === 'GITHUB_TOKEN' || n === 'GH_TOKEN')).toEqual(['GITHUB_TOKEN'])
  })
})
