// The ping the action inserts must be exactly what Celery itself publishes (a malformed envelope
// kills the worker). Here the bootstrap's message is compared with the row that Celery's own
// send_task writes into kombu_message through the real SQLAlchemy transport, on both Celery
// versions: same fields, same values, except those Celery makes unique per message.
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIST_MAIN, EXAMPLE_APP, pythonFor, type CeleryVersion } from '../support/action.js'
import { exampleDatabase } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import path from 'node:path'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

const BOOTSTRAP = path.join(path.dirname(DIST_MAIN), 'bootstrap.py')

/**
 * Runs the bundled bootstrap up to its probe, then tells it not to start the worker. With
 * node:child_process: the report arrives on fd 3 and is answered on stdin as it comes.
 */
function probeMessage(python: string, env: Record<string, string>, taskId: string, queue: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [BOOTSTRAP], {
      cwd: EXAMPLE_APP,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...env,
        CELERY_FOUNDATION_GATES_BOOT: JSON.stringify({ app: 'app.celery_app', argv: [], task: 'celery.ping', taskId, queue, includePingModule: true })
      }
    })
    let events = ''
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
    ;(child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
      events += d.toString()
      if (events.includes('\n')) child.stdin?.end('stop\n')
    })
    child.on('exit', (code) => {
      const event = JSON.parse(events.split('\n')[0] || '{}') as { ping_payload?: string }
      if (event.ping_payload) resolve(event.ping_payload)
      else reject(new Error(`bootstrap exited ${code} without a payload: ${events} ${stderr}`))
    })
  })
}

/** Celery's own send_task through the real broker (no worker consumes the queue). */
async function celerySendTask(python: string, env: Record<string, string>, taskId: string, queue: string): Promise<void> {
  const script = `
import sys
from app.celery_app import celery_app
import celery.contrib.testing.tasks
celery_app.send_task('celery.ping', task_id=sys.argv[1], queue=sys.argv[2])
`
  const run = await execa(python, ['-c', script, taskId, queue], { cwd: EXAMPLE_APP, env, reject: false })
  if (run.exitCode !== 0) throw new Error(run.stderr)
}

/** Fields Celery fills with a new value for every message (ids, the sender's identity). */
const VOLATILE = ['properties.delivery_tag', 'properties.reply_to', 'headers.origin']

function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out)
  } else out[prefix] = value
  return out
}

describe.each(['5.7', '5.2'] as const)('the ping message on Celery %s', (version: CeleryVersion) => {
  it('is field for field what celery send_task stores in kombu_message', async () => {
    const db = await exampleDatabase(pg)
    const env = { DATABASE_URL: db.url }
    const python = pythonFor(version)
    const taskId = randomUUID()
    const queue = `envelope-${version}`
    const ours = JSON.parse(await probeMessage(python, env, taskId, queue)) as Record<string, unknown>
    await celerySendTask(python, env, taskId, queue)
    const rows = await pg.query<{ payload: string; visible: boolean; version: number }>(
      db.database,
      'SELECT m.payload, m.visible, m.version FROM kombu_message m JOIN kombu_queue q ON q.id = m.queue_id WHERE q.name = $1',
      [queue]
    )
    expect(rows).toHaveLength(1)
    expect(rows[0]?.visible).toBe(true)
    const theirs = JSON.parse(rows[0]?.payload ?? '{}') as Record<string, unknown>

    const a = flatten(ours)
    const b = flatten(theirs)
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort())
    for (const key of Object.keys(b)) {
      if (VOLATILE.includes(key)) expect(typeof a[key], key).toBe(typeof b[key])
      else expect(a[key], key).toEqual(b[key])
    }
    // The body decodes to Celery's protocol-2 triple and the headers name the task and id.
    const body = JSON.parse(Buffer.from(String(a.body), 'base64').toString('utf8')) as unknown[]
    expect(body).toHaveLength(3)
    expect(a['headers.task']).toBe('celery.ping')
    expect(a['headers.id']).toBe(taskId)
    expect(a['properties.body_encoding']).toBe('base64')
  })
})
