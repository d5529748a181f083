// The command the CLI prints to stop a worker kept with --keep-worker, run as a user would paste
// it, after the prefork worker did real work: 35 tasks of the example app on both of its queues.
// The old `kill -TERM -<pid>` signalled the pool children together with the main process: in this
// very test (the same wait, the group's SIGTERM instead) the worker hung until SIGKILL in 4 of 6
// tries. The printed command must end the whole process tree by Celery's warm shutdown, within its
// bound, every time.
import { existsSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STOP_GRACE_S } from '../../src/cli/stop-command.js'
import { EXAMPLE_APP, REPO, processesOfRun, pythonFor } from '../support/action.js'
import { exampleDatabase, type ExampleDatabase } from '../support/example.js'
import { exampleArgs, runCli, runCommand, type CommandRun } from '../support/cli.js'
import { TestPostgres } from '../support/postgres.js'
import { record } from '../support/reliability.js'

const GROUP = 'Trust'
const TRIES = 3
const TENANT_A = '8d7f1d5e-2c5a-4c43-9d55-5b8f4f0a9d10'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

type Run = CommandRun

const run = (command: string, args: string[], env: Record<string, string>, cwd = REPO, killAfterMs = 120_000): Promise<Run> =>
  runCommand(command, args, env, { cwd, killAfterMs })

/** Real tasks of the example app, through the kept worker: invoices under RLS, short naps, pings. */
const TASKS = `
from app.celery_app import celery_app
sent = [celery_app.send_task('app.tasks.invoices.record_invoice', args=['${TENANT_A}', '12.50']) for _ in range(3)]
sent += [celery_app.send_task('app.tasks.housekeeping.nap', kwargs={'seconds': 0.5}) for _ in range(2)]
sent += [celery_app.send_task('app.tasks.housekeeping.ping', kwargs={'x': i}) for i in range(30)]
for r in sent:
    r.get(timeout=30)
print('answered', len(sent))
`

async function keepStopOnce(db: ExampleDatabase): Promise<{ runId: string; line: string; stop: Run; left: number[]; log: string }> {
  const cli = await runCli(
    [...exampleArgs(db, 'app.celery_app', '--pool=prefork --concurrency=2'), '--gates', 'import,runtime,ci', '--keep-worker', '--no-color'],
    { DATABASE_URL: db.url }
  )
  const runId = /\b(cfg-[0-9a-f]{8})@/.exec(cli.stderr)?.[1] ?? ''
  const line = /stop it with: (.*)$/m.exec(cli.stderr)?.[1] ?? ''
  try {
    expect(cli.code, cli.stderr.slice(-2000)).toBe(0)
    expect(line, cli.stderr).toMatch(/^sh -c 'kill -TERM \d+; /)
    expect(processesOfRun(runId).length, 'the kept worker and its two pool children').toBeGreaterThanOrEqual(3)
    const tasks = await run(pythonFor('5.7'), ['-c', TASKS], { DATABASE_URL: db.url }, EXAMPLE_APP, 60_000)
    expect(tasks.stdout + tasks.stderr).toContain('answered 35')
    // As pasted into an interactive bash.
    const stop = await run('bash', ['-c', line], {}, REPO, (STOP_GRACE_S + 30) * 1000)
    const left = processesOfRun(runId)
    const logFile = path.join(tmpdir(), 'celery-foundation-gates', runId, 'worker-output.log')
    return { runId, line, stop, left, log: existsSync(logFile) ? readFileSync(logFile, 'utf8') : '' }
  } finally {
    for (const pid of runId ? processesOfRun(runId) : []) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
}

describe('--keep-worker: the printed stop command', () => {
  it(`stops a prefork worker after real tasks by warm shutdown, ${TRIES} times in ${TRIES}`, async () => {
    const seen: string[] = []
    const problems: string[] = []
    for (let i = 1; i <= TRIES; i++) {
      const db = await exampleDatabase(pg)
      const { stop, left, log } = await keepStopOnce(db)
      const warm = /Warm shutdown/i.test(log)
      const killed = stop.stderr.includes('killing process group')
      seen.push(
        `try ${i}: stopped in ${(stop.ms / 1000).toFixed(1)} s, ${warm ? 'warm shutdown logged' : 'NO warm shutdown line'}, ${killed ? 'SIGKILL needed' : 'no SIGKILL'}, ${left.length} processes left`
      )
      if (stop.code !== 0) problems.push(`try ${i}: the command exited ${stop.code}: ${stop.stderr.slice(0, 300)}`)
      if (!warm) problems.push(`try ${i}: no warm shutdown line in the worker's log: …${log.slice(-800)}`)
      if (killed) problems.push(`try ${i}: the worker lingered past ${STOP_GRACE_S} s and was killed`)
      if (left.length) problems.push(`try ${i}: ${left.length} processes left`)
    }
    record({
      group: GROUP,
      case: `CLI --keep-worker (prefork, 2 children): the printed stop command after real tasks, ${TRIES} tries`,
      expectation: `each time: 35 tasks of the example app answered by the kept worker, then the printed command (SIGTERM to the main process, the group killed only after ${STOP_GRACE_S} s) ends the whole process tree by Celery's warm shutdown, without SIGKILL`,
      result: problems.length ? `${seen.join('; ')} — PROBLEMS: ${problems.join('; ')}` : seen.join('; '),
      passed: !problems.length
    })
    expect(problems).toEqual([])
  })
})
