// No orphans: every process the action starts is gone when it ends — after the runner's
// cancellation (SIGINT, then SIGTERM), and after the main step was killed outright (the post step
// stops what is left); a hung import is a case of faults.test.ts. Checked in the process table, not
// by the action's word.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIST_POST, EXAMPLE_APP, processesOfRun, pythonFor, runAction, stepFiles } from '../support/action.js'
import { exampleDatabase, type ExampleDatabase } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep, record } from '../support/reliability.js'
import { waitForProcesses, waitForRunId } from '../support/run-watch.js'

const GROUP = 'Cancellation and cleanup'

let pg: TestPostgres
let db: ExampleDatabase
beforeAll(async () => {
  pg = await TestPostgres.start()
  // The role has the default name, so these runs also exercise the default `expected-role`.
  db = await exampleDatabase(pg, { appRole: 'app_user' })
})
afterAll(async () => {
  await pg?.destroy()
})

const inputs = (extra: Record<string, string> = {}): Record<string, string> => ({
  app: 'app.celery_app',
  'working-directory': EXAMPLE_APP,
  python: pythonFor('5.7'),
  'worker-args': '--pool=solo',
  timeout: '60',
  ...extra
})

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('worker lifecycle', () => {
  it('SIGINT from the runner: the worker is stopped, the summary says cancelled, nothing is left', async () => {
    let runId = ''
    let sigintAt = 0
    let exitedAt = 0
    const result = await runAction(inputs({ 'ping-task': 'app.tasks.housekeeping.nap' }), {
      env: { DATABASE_URL: db.url },
      onSpawn: (child, files) => {
        child.on('exit', () => (exitedAt = performance.now()))
        void (async () => {
          runId = await waitForRunId(files)
          await waitForProcesses(runId, 1)
          await sleep(2500) // the worker is up and busy with the never-ending "ping"
          sigintAt = performance.now()
          child.kill('SIGINT')
          // The runner's SIGTERM follows 7.5 s later; the action must be gone by then.
          await sleep(7500)
          child.kill('SIGTERM')
        })()
      }
    })
    expect(result.summary).toMatch(/cancelled/i)
    expect(result.report?.interrupted?.kind).toBe('cancelled')
    // Done inside the runner's window: before its SIGTERM (7.5 s after the SIGINT).
    const afterSigint = exitedAt - sigintAt
    expect(afterSigint).toBeLessThan(7500)
    checkStep(
      GROUP,
      'SIGINT while waiting for the pong, SIGTERM 7.5 s later',
      result,
      { code: 1, gates: { runtime: 'skip' }, evidence: /cancelled/, timeoutS: 10, secrets: [db.password, encodeURIComponent(db.password), db.url] },
      `the worker is stopped, the summary says cancelled, the step ends before the SIGTERM (it ended ${(afterSigint / 1000).toFixed(1)} s after the SIGINT)`
    )
  })

  it('the post step stops a worker that a killed main step left behind', async () => {
    const files = stepFiles()
    let runId = ''
    const main = await runAction(inputs({ 'ping-task': 'app.tasks.housekeeping.nap', 'worker-args': '--pool=prefork --concurrency=2' }), {
      env: { DATABASE_URL: db.url },
      files,
      onSpawn: (child) => {
        void (async () => {
          runId = await waitForRunId(files)
          await waitForProcesses(runId, 3) // main process + 2 pool children
          await sleep(1500)
          child.kill('SIGKILL') // the runner gave up on the main step
        })()
      }
    })
    expect(main.signal).toBe('SIGKILL')
    // The prefork worker is busy with the long task, so it outlives its killed parent.
    const before = processesOfRun(runId).length
    expect(before).toBeGreaterThan(0)

    const post = await runAction({}, { script: DIST_POST, files, passState: true })
    const after = processesOfRun(runId).length
    const warning = /::warning::(Stopped \d+ worker process\(es\) left running by the main step[^\n]*)/.exec(post.stdout)?.[1]
    const passed = post.code === 0 && !!warning && after === 0
    record({
      group: GROUP,
      case: 'post step after the main step was SIGKILLed (prefork worker busy with a long task)',
      expectation: 'the post step stops every process of the run, and only warns (exit 0)',
      result: `main killed with ${before} worker processes alive; post exit ${post.code} in ${(post.durationMs / 1000).toFixed(1)} s, warning "${warning ?? 'none'}"; ${after} processes left`,
      passed
    })
    expect(post.code).toBe(0)
    expect(warning).toBeDefined()
    expect(after).toBe(0)
  })

  it('the post step is quiet when the main step cleaned up after itself', async () => {
    const files = stepFiles()
    const main = await runAction(inputs(), { env: { DATABASE_URL: db.url }, files })
    expect(main.code).toBe(0)
    const post = await runAction({}, { script: DIST_POST, files, passState: true })
    const quiet = post.code === 0 && !/::warning::/.test(post.stdout)
    record({
      group: GROUP,
      case: 'post step after a main step that cleaned up',
      expectation: 'nothing to stop: exit 0, no warning',
      result: `main exit ${main.code}; post exit ${post.code} in ${(post.durationMs / 1000).toFixed(1)} s, ${quiet ? 'no warning' : 'a warning'}`,
      passed: quiet
    })
    expect(post.code).toBe(0)
    expect(post.stdout).not.toMatch(/::warning::/)
  })
})
