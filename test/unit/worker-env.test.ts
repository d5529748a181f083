// The worker's environment (celery/worker-env.ts): the job's environment without the runner's and
// this step's credentials and command files, plus what the worker needs; `worker-env` names pass.
import { describe, expect, it } from 'vitest'
import { isWithheld, workerEnvironment } from '../../src/celery/worker-env.js'

/** What a node action's process has on a runner (values made up), plus the app's own. */
const RUNNER_ENV = {
  'INPUT_GITHUB-TOKEN': 'ghs_input',
  'INPUT_DATABASE-URL': 'postgresql://u:p@h/db',
  INPUT_APP: 'app.celery_app',
  ACTIONS_RUNTIME_TOKEN: 'rt',
  ACTIONS_RUNTIME_URL: 'https://pipelines.example/',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://oidc.example/',
  ACTIONS_CACHE_URL: 'https://cache.example/',
  ACTIONS_RESULTS_URL: 'https://results.example/',
  GITHUB_STATE: '/runner/_temp/_runner_file_commands/save_state_1',
  GITHUB_OUTPUT: '/runner/_temp/_runner_file_commands/set_output_1',
  GITHUB_ENV: '/runner/_temp/_runner_file_commands/set_env_1',
  GITHUB_PATH: '/runner/_temp/_runner_file_commands/add_path_1',
  GITHUB_STEP_SUMMARY: '/runner/_temp/_runner_file_commands/step_summary_1',
  GITHUB_TOKEN: 'ghs_env',
  GH_TOKEN: 'ghs_gh',
  'STATE_run-id': 'cfg-00000000',
  CELERY_FOUNDATION_GATES_RUN: 'cfg-outer',
  // Kept: what a `run:` step of the job gets too, and the app's own.
  GITHUB_WORKSPACE: '/runner/work/repo',
  GITHUB_SHA: 'abc',
  GITHUB_EVENT_PATH: '/runner/_temp/_github_workflow/event.json',
  GITHUB_ACTIONS: 'true',
  RUNNER_TEMP: '/runner/_temp',
  RUNNER_TRACKING_ID: 'github_1',
  PATH: '/usr/bin',
  HOME: '/home/runner',
  CI: 'true',
  DATABASE_URL: 'postgresql://app:pw@db/app',
  APP_FEATURE: 'on',
  UNSET: undefined
}

const KEPT = [
  'APP_FEATURE',
  'CI',
  'DATABASE_URL',
  'GITHUB_ACTIONS',
  'GITHUB_EVENT_PATH',
  'GITHUB_SHA',
  'GITHUB_WORKSPACE',
  'HOME',
  'PATH',
  'RUNNER_TEMP',
  'RUNNER_TRACKING_ID'
]

describe('workerEnvironment', () => {
  it("keeps what a run: step gets and the app's own variables, drops the runner's and the step's", () => {
    const env = workerEnvironment(RUNNER_ENV, [], {})
    expect(Object.keys(env).sort()).toEqual(KEPT)
    expect(env.DATABASE_URL).toBe(RUNNER_ENV.DATABASE_URL)
  })

  it('passes a withheld variable through when named, and only that one', () => {
    const env = workerEnvironment(RUNNER_ENV, ['GITHUB_TOKEN', 'NOT_SET_ANYWHERE'], {})
    expect(Object.keys(env).sort()).toEqual([...KEPT, 'GITHUB_TOKEN'].sort())
    expect(env.GITHUB_TOKEN).toBe('ghs_env')
  })

  it("sets the worker's own variables on top, whatever was inherited or passed", () => {
    const env = workerEnvironment(RUNNER_ENV, ['CELERY_FOUNDATION_GATES_RUN'], {
      CELERY_FOUNDATION_GATES_RUN: 'cfg-mine',
      PYTHONUNBUFFERED: '1',
      PGAPPNAME: 'cfg-mine'
    })
    expect(env).toMatchObject({ CELERY_FOUNDATION_GATES_RUN: 'cfg-mine', PYTHONUNBUFFERED: '1', PGAPPNAME: 'cfg-mine' })
  })

  it('does not change what it was given', () => {
    const given = { GITHUB_TOKEN: 't', A: 'a' }
    workerEnvironment(given, [], { B: 'b' })
    expect(given).toEqual({ GITHUB_TOKEN: 't', A: 'a' })
  })

  it('withholds by name whatever the case, and by prefix', () => {
    for (const name of ['github_token', 'Gh_Token', 'INPUT_X', 'input_x', 'ACTIONS_ANYTHING_NEW', 'STATE_x', 'GITHUB_ENTERPRISE_TOKEN', 'GH_ENTERPRISE_TOKEN'])
      expect(isWithheld(name), name).toBe(true)
    for (const name of ['GITHUB_REF', 'RUNNER_OS', 'PGPASSWORD', 'MY_INPUT_X', 'GITHUB_ACTIONS', 'DATABASE_URL']) expect(isWithheld(name), name).toBe(false)
  })
})
