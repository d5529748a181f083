// Faults: the database going away (before the run, while the action waits for the pong, restarted
// mid-run), the worker killed, hanging on import, flooding its output, a ping task that raises or
// stores no result, a role whose password expired, and broker tables locked by another session.
// Each case drives the bundled action against a real PostgreSQL and a real Celery worker, injects
// the fault from outside while the step runs, and goes through checkStep: the right gate fails
// with the cause in words, the step ends in bounded time, nothing leaks, nothing is left running.
// The cases run one after another: some stop and restart the file's only PostgreSQL cluster.
import { Buffer } from 'node:buffer'
import type { ChildProcess } from 'node:child_process'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXAMPLE_APP, pythonFor, runAction, type ActionResult, type RunOptions, type StepFiles } from '../support/action.js'
import { exampleDatabase, type ExampleDatabase } from '../support/example.js'
import { SUPERUSER, TestPostgres } from '../support/postgres.js'
import { record, checkStep, type StepExpectation } from '../support/reliability.js'
import { sleep, trackPeakRss, waitForRunId, waitForWorkerReady, workerMainPid } from '../support/run-watch.js'

const GROUP = 'Faults'
/** Timeout input of the cases that must fail fast: a failure at the timeout is unmistakable. */
const FAIL_FAST_TIMEOUT = '30'
/** What "fast" means for them: boot, the cause, a stop — well below the 30 s they were given. */
const FAST_S = 15
const FOUNDATION = ['import', 'broker-config', 'runtime', 'db-access', 'rls-role'] as const

let server: TestPostgres

beforeAll(async () => {
  server = await TestPostgres.start()
})
afterAll(async () => {
  await server?.destroy()
})

function inputs(db: ExampleDatabase, extra: Record<string, string> = {}): Record<string, string> {
  return {
    app: 'app.celery_app',
    'working-directory': EXAMPLE_APP,
    python: pythonFor('5.7'),
    'expected-role': db.appRole,
    'worker-args': '--pool=solo',
    timeout: FAIL_FAST_TIMEOUT,
    ...extra
  }
}

const secretsOf = (db: ExampleDatabase): string[] => [db.password, encodeURIComponent(db.password), db.url]

/**
 * Runs the step with `inject` acting on it while it runs. An error of the injection itself (the
 * worker never got ready, …) fails the test after the step ended: it is the test's fault, not the
 * product's, so it is not recorded as a product result.
 */
async function runWithFault(
  stepInputs: Record<string, string>,
  db: ExampleDatabase,
  inject?: (child: ChildProcess, files: StepFiles) => Promise<void>,
  options: RunOptions = {}
): Promise<ActionResult> {
  let injected: Promise<void> = Promise.resolve()
  const result = await runAction(stepInputs, {
    ...options,
    env: { DATABASE_URL: db.url, ...options.env },
    onSpawn: (child, files) => {
      options.onSpawn?.(child, files)
      if (inject) injected = inject(child, files)
      injected.catch(() => {}) // awaited below, after the step
    }
  })
  await injected
  return result
}

describe('Faults', () => {
  it('PostgreSQL stopped before the run: runtime fails fast with the refusal', async () => {
    const db = await exampleDatabase(server)
    await server.stop()
    let result: ActionResult
    try {
      result = await runWithFault(inputs(db), db)
    } finally {
      await server.startAgain()
    }
    checkStep(
      GROUP,
      'PostgreSQL stopped before the run',
      result,
      {
        code: 1,
        gates: { runtime: 'fail', import: 'pass', 'broker-config': 'pass' },
        evidence: /refused the worker's connection: .*Connection refused/,
        timeoutS: FAST_S,
        marginS: 0,
        secrets: secretsOf(db)
      },
      `runtime fails with \`Connection refused\` within ${FAST_S} s (timeout ${FAIL_FAST_TIMEOUT} s), the other foundation gates say why they did not run`
    )
  })

  it('PostgreSQL stopped while the action waits for the pong: runtime fails, the database stopped answering', async () => {
    const db = await exampleDatabase(server)
    let stoppedAtMs = 0
    let result: ActionResult
    try {
      result = await runWithFault(inputs(db, { 'ping-task': 'app.tasks.housekeeping.nap' }), db, async (_child, files) => {
        const runId = await waitForRunId(files)
        await waitForWorkerReady(files, runId)
        await sleep(2000) // the worker has the never-ending "ping"; the action polls for its result
        stoppedAtMs = performance.now()
        await server.stop()
      })
    } finally {
      await server.startAgain()
    }
    expect(stoppedAtMs, 'the server was stopped during the step').toBeGreaterThan(0)
    checkStep(
      GROUP,
      'PostgreSQL stopped while the action waits for the pong',
      result,
      {
        code: 1,
        gates: { runtime: 'fail' },
        evidence: /the database stopped answering while the worker had the ping/,
        timeoutS: Number(FAIL_FAST_TIMEOUT),
        secrets: secretsOf(db)
      },
      'ping task `nap` (never answers), server stopped 2 s after `ready.`: runtime fails with "the database stopped answering while the worker had the ping" (~8 s later), within timeout + margin'
    )
  })

  it('PostgreSQL restarted mid-run: the verdict is true either way, the step ends in bounds', async () => {
    const db = await exampleDatabase(server)
    let result: ActionResult
    try {
      result = await runWithFault(inputs(db), db, async (_child, files) => {
        const runId = await waitForRunId(files)
        await waitForWorkerReady(files, runId)
        await server.stop()
        await sleep(1000)
        await server.startAgain()
      })
    } finally {
      await server.startAgain()
    }
    // Either the worker reconnected and answered (every gate passes), or the runtime gate fails
    // and its evidence names the database or the connection. Anything else is a wrong verdict.
    const runtimePassed = result.report?.gates.find((g) => g.id === 'runtime')?.status === 'pass'
    const want: StepExpectation = runtimePassed
      ? { code: 0, gates: Object.fromEntries([...FOUNDATION, 'ci'].map((id) => [id, 'pass'])) }
      : { code: 1, gates: { runtime: 'fail' }, evidence: /database|connection/i }
    checkStep(
      GROUP,
      'PostgreSQL restarted mid-run',
      result,
      { ...want, timeoutS: Number(FAIL_FAST_TIMEOUT), secrets: secretsOf(db) },
      "server stopped at the worker's `ready.` and started again 1 s later: either every gate passes (the worker reconnected and answered) or runtime fails naming the database/connection; ends within timeout + margin"
    )
  })

  it('the worker SIGKILLed before the pong: runtime fails fast naming the signal', async () => {
    const db = await exampleDatabase(server)
    let killed = 0
    const result = await runWithFault(inputs(db, { 'ping-task': 'app.tasks.housekeeping.nap' }), db, async (child, files) => {
      const runId = await waitForRunId(files)
      await waitForWorkerReady(files, runId)
      const main = await workerMainPid(runId, child.pid as number)
      await sleep(500) // it has taken the never-ending "ping" by now
      process.kill(main, 'SIGKILL')
      killed = main
    })
    expect(killed, 'the worker was killed during the step').toBeGreaterThan(0)
    checkStep(
      GROUP,
      'worker SIGKILLed after ready, before the pong',
      result,
      {
        code: 1,
        gates: { runtime: 'fail' },
        evidence: /the worker process was killed by SIGKILL/,
        timeoutS: FAST_S,
        marginS: 0,
        secrets: secretsOf(db)
      },
      `ping task \`nap\`, the worker's main process SIGKILLed after \`ready.\`: runtime fails with "the worker process was killed by SIGKILL" within ${FAST_S} s`
    )
  })

  it('a worker that never gets ready: import fails at the timeout and nothing is left running', async () => {
    const db = await exampleDatabase(server)
    const result = await runWithFault(inputs(db, { app: 'app.variants.hangs_on_import', timeout: '5' }), db)
    checkStep(
      GROUP,
      'app import hangs (worker never ready)',
      result,
      {
        code: 1,
        gates: { import: 'fail', 'broker-config': 'skip', runtime: 'skip' },
        evidence: /did not finish importing within 5 s/,
        timeoutS: 5,
        // The timeout, then stopping a process that never worked (2 s) and writing the report.
        marginS: 6,
        secrets: secretsOf(db)
      },
      'app `app.variants.hangs_on_import`, timeout 5 s: import fails with "did not finish importing within 5 s" after the timeout, not the import\'s forever; the hung process is gone'
    )
  })

  it('a worker printing megabytes of logs: the foundation passes, output and memory stay bounded', async () => {
    const db = await exampleDatabase(server)
    let rss: { stop: () => number } | undefined
    const result = await runWithFault(inputs(db, { app: 'app.variants.chatty', timeout: '60' }), db, undefined, {
      onSpawn: (child) => {
        rss = trackPeakRss(child.pid as number)
      }
    })
    const peakRss = rss?.stop() ?? 0
    checkStep(
      GROUP,
      'worker printing megabytes of logs',
      result,
      {
        code: 0,
        gates: Object.fromEntries([...FOUNDATION, 'ci'].map((id) => [id, 'pass'])),
        timeoutS: 60,
        secrets: secretsOf(db)
      },
      'app `app.variants.chatty` (~5 MB/s on stderr): every gate passes'
    )

    // The bounds, recorded as their own row so the numbers are in RELIABILITY.md.
    const MiB = 1024 * 1024
    const summaryBytes = Buffer.byteLength(result.summary)
    const worker = result.report?.worker
    const logBytes = worker?.logBytes ?? 0
    const problems: string[] = []
    if (summaryBytes >= MiB) problems.push(`summary is ${summaryBytes} bytes (limit 1 MiB)`)
    // The worker floods only while the run lasts, a few seconds now that the stop is fast: a few MB.
    if (logBytes <= 2_000_000) problems.push(`report says the worker printed ${logBytes} bytes (expected > 2,000,000)`)
    if (logBytes > 8 * MiB && worker?.logTruncated !== true) problems.push('the log passed 8 MiB but the report does not say logTruncated')
    const fileBytes = Buffer.byteLength(result.workerLog)
    if (fileBytes > 8 * MiB + 4096) problems.push(`the worker log file is ${fileBytes} bytes (bound 8 MiB)`)
    if (peakRss === 0) problems.push("the action's memory was never sampled")
    if (peakRss >= 300 * 1e6) problems.push(`the action's peak RSS was ${(peakRss / 1e6).toFixed(0)} MB (limit 300 MB)`)
    const seen = `summary ${(summaryBytes / 1024).toFixed(1)} KiB; worker printed ${(logBytes / 1e6).toFixed(1)} MB, log file ${(fileBytes / 1e6).toFixed(1)} MB${worker?.logTruncated ? ' (truncated at 8 MiB)' : ''}; action peak RSS (VmHWM) ${(peakRss / 1e6).toFixed(0)} MB`
    record({
      group: GROUP,
      case: 'worker printing megabytes of logs: bounds',
      expectation:
        "summary under 1 MiB; the report counts the bytes the worker printed (> 2 MB) and says logTruncated past 8 MiB, the log file stays within 8 MiB; the action's peak RSS stays under 300 MB",
      result: problems.length ? `${seen} — PROBLEMS: ${problems.join('; ')}` : seen,
      passed: !problems.length
    })
    expect(problems, seen).toEqual([])
  })

  it('a ping task that raises: runtime fails with the exception', async () => {
    const db = await exampleDatabase(server)
    const result = await runWithFault(inputs(db, { 'ping-task': 'app.tasks.housekeeping.fail' }), db)
    checkStep(
      GROUP,
      'ping task raises',
      result,
      {
        code: 1,
        gates: { runtime: 'fail' },
        evidence: /the worker ran app\.tasks\.housekeeping\.fail and it failed: DeliberateFailure\(/,
        timeoutS: FAST_S,
        marginS: 0,
        secrets: secretsOf(db)
      },
      `ping task \`fail\`: runtime fails with "the worker ran app.tasks.housekeeping.fail and it failed: DeliberateFailure(…)" within ${FAST_S} s`
    )
  })

  it('a result row that never appears: runtime fails soon after the worker logs success', async () => {
    const db = await exampleDatabase(server)
    const result = await runWithFault(inputs(db, { 'ping-task': 'app.tasks.housekeeping.fire_and_forget' }), db)
    checkStep(
      GROUP,
      'result row never appears (ignore_result)',
      result,
      {
        code: 1,
        gates: { runtime: 'fail' },
        evidence: /no result row appeared/,
        timeoutS: FAST_S,
        marginS: 0,
        secrets: secretsOf(db)
      },
      `ping task \`fire_and_forget\` (ignore_result=True): runtime fails with "no result row appeared" a few s after the worker logs success, within ${FAST_S} s, not at the ${FAIL_FAST_TIMEOUT} s timeout`
    )
  })

  it('a role whose password expired: runtime fails fast with the refusal', async () => {
    const db = await exampleDatabase(server, { variants: ['password-expired'] })
    const result = await runWithFault(inputs(db), db)
    checkStep(
      GROUP,
      'role password expired',
      result,
      {
        code: 1,
        gates: { runtime: 'fail' },
        evidence: /password authentication failed/,
        timeoutS: FAST_S,
        marginS: 0,
        secrets: secretsOf(db)
      },
      `SQL variant \`password-expired\`: runtime fails with "password authentication failed" within ${FAST_S} s`
    )
  })

  it('broker tables locked by another session: runtime fails fast naming the holder', async () => {
    const db = await exampleDatabase(server)
    const locker = new pg.Client({ host: '127.0.0.1', port: server.port, user: SUPERUSER, password: server.superPassword, database: db.database })
    await locker.connect()
    let result: ActionResult
    let lockerPid = 0
    try {
      lockerPid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0
      await locker.query('BEGIN')
      await locker.query('LOCK TABLE kombu_message IN ACCESS EXCLUSIVE MODE')
      result = await runWithFault(inputs(db), db)
    } finally {
      await locker.query('ROLLBACK').catch(() => {})
      await locker.end()
    }
    checkStep(
      GROUP,
      'broker tables locked by another session',
      result,
      {
        code: 1,
        gates: { runtime: 'fail' },
        evidence: new RegExp(`the broker tables are locked by another session: pid ${lockerPid}\\b.* holds AccessExclusiveLock on kombu_message`),
        timeoutS: FAST_S,
        marginS: 0,
        secrets: secretsOf(db)
      },
      `\`LOCK TABLE kombu_message IN ACCESS EXCLUSIVE MODE\` held by another session for the whole run: runtime fails naming that session's pid and lock, within ${FAST_S} s (no hang)`
    )
  })
})
