// No orphans: every process the action starts is gone when it ends — after a hung import, after
// the runner's cancellation (SIGINT, then SIGTERM), and after the main step was killed outright
// (the post step stops what is left). Checked in the process table, not by the action's word.
import { existsSync, readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DIST_POST,
  EXAMPLE_APP,
  gate,
  parseFileCommands,
  processesOfRun,
  pythonFor,
  runAction,
  stepFiles,
  type StepFiles
} from '../support/action.js'
import { exampleDatabase, type ExampleDatabase } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'

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

/** The run id the main step saved for its post step, once the worker was spawned. */
async function waitForRunId(files: StepFiles, timeoutMs = 20_000): Promise<string> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const runId = parseFileCommands(existsSync(files.state) ? readFileSync(files.state, 'utf8') : '')['run-id']
    if (runId) return runId
    await sleep(50)
  }
  throw new Error('the main step never saved its run id')
}

async function waitForProcesses(runId: string, atLeast: number, timeoutMs = 30_000): Promise<number[]> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const pids = processesOfRun(runId)
    if (pids.length >= atLeast) return pids
    await sleep(100)
  }
  throw new Error(`fewer than ${atLeast} processes of ${runId} appeared`)
}

describe('worker lifecycle', () => {
  it('a hung import fails the import gate at the timeout and leaves nothing running', async () => {
    const result = await runAction(inputs({ app: 'app.variants.hangs_on_import', timeout: '4' }), { env: { DATABASE_URL: db.url } })
    expect(result.code).not.toBe(0)
    expect(gate(result, 'import').status).toBe('fail')
    expect(gate(result, 'import').evidence).toMatch(/did not finish importing within 4 s/)
    // Bounded: the timeout plus a small margin, not the import's forever.
    expect(result.durationMs).toBeLessThan(4000 + 6000)
    expect(processesOfRun(result.state['run-id'] ?? '?')).toEqual([])
  })

  it('SIGINT from the runner: the worker is stopped, the summary says cancelled, nothing is left', async () => {
    let runId = ''
    const result = await runAction(inputs({ 'ping-task': 'app.tasks.housekeeping.nap' }), {
      env: { DATABASE_URL: db.url },
      onSpawn: (child, files) => {
        void (async () => {
          runId = await waitForRunId(files)
          await waitForProcesses(runId, 1)
          await sleep(2500) // the worker is up and busy with the never-ending "ping"
          child.kill('SIGINT')
          // The runner's SIGTERM follows 7.5 s later; the action must be gone by then.
          await sleep(7500)
          child.kill('SIGTERM')
        })()
      }
    })
    expect(result.code).not.toBe(0)
    expect(result.summary).toMatch(/cancelled/i)
    expect(result.report?.interrupted?.kind).toBe('cancelled')
    expect(gate(result, 'runtime').status).toBe('skip')
    expect(result.durationMs).toBeLessThan(2500 + 7500 + 20_000)
    expect(processesOfRun(runId)).toEqual([])
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
    expect(processesOfRun(runId).length).toBeGreaterThan(0)

    const post = await runAction({}, { script: DIST_POST, files, passState: true })
    expect(post.code).toBe(0)
    expect(post.stdout).toMatch(/::warning::Stopped \d+ worker process\(es\) left running by the main step/)
    expect(processesOfRun(runId)).toEqual([])
  })

  it('the post step is quiet when the main step cleaned up after itself', async () => {
    const files = stepFiles()
    const main = await runAction(inputs(), { env: { DATABASE_URL: db.url }, files })
    expect(main.code).toBe(0)
    const post = await runAction({}, { script: DIST_POST, files, passState: true })
    expect(post.code).toBe(0)
    expect(post.stdout).not.toMatch(/::warning::/)
  })
})
