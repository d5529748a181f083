// Input from outside must not hang, crash or blow up the step: a result row that someone else wrote
// for the ping's task id, and JUnit reports that lead outside the workspace, are not XML, or nest
// without end. Each case drives the bundle on the example app with a real PostgreSQL and a real
// Celery worker, and goes through checkStep: the step ends in bounds with a summary and a report,
// the hostile input is a finding in the evidence, and nothing of it leaks.
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ActionResult, RunOptions } from '../support/action.js'
import { exampleDatabase, runOnExample, type ExampleDatabase } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'
import { workspaceTempDir } from '../support/workspace.js'
import { sleep, trackPeakRss, waitForRunId, waitForWorkerReady } from '../support/run-watch.js'

const GROUP = 'Trust'
const TIMEOUT_S = 30

let server: TestPostgres
/** Inside the workspace the action is given (GITHUB_WORKSPACE is the repository in these runs). */
let inside = ''
/** Outside it: where the secrets the pull request would like to read live. */
let outside = ''

beforeAll(async () => {
  server = await TestPostgres.start()
  inside = workspaceTempDir('trust-')
  outside = mkdtempSync(path.join(tmpdir(), 'cfg-trust-outside-'))
})
afterAll(async () => {
  await server?.destroy()
  for (const dir of [inside, outside]) if (dir) rmSync(dir, { recursive: true, force: true })
})

const secretsOf = (db: ExampleDatabase): string[] => [db.password, encodeURIComponent(db.password), db.url]

/**
 * The task id of the run's own ping, from the message the action published on the run's queue
 * (`<run id>.ping`) in the broker tables — the pings for the app's other queues carry other ids.
 */
async function pingTaskId(client: pg.Client, runId: string, timeoutMs = 30_000): Promise<string> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const rows = await client
      .query<{ payload: string }>('SELECT m.payload FROM kombu_message m JOIN kombu_queue q ON q.id = m.queue_id WHERE q.name = $1', [`${runId}.ping`])
      .then((r) => r.rows)
    const id = rows.map((row) => (JSON.parse(row.payload) as { headers?: { id?: string } }).headers?.id).find(Boolean)
    if (id) return id
    await sleep(50)
  }
  throw new Error(`no ping message of ${runId} appeared in kombu_message`)
}

/**
 * Runs the step with the never-ending `nap` as the ping task (so the worker never answers it);
 * once the worker is ready, writes a finished result row for the ping's task id as the app's own
 * role (anyone with INSERT on the table can). The action, polling for that row, reads the hostile
 * bytes instead of the worker's answer. The step fails either way: `nap` is also the ping of the
 * app's other queues, which the queues gate waits for in vain.
 */
async function runWithHostileRow(db: ExampleDatabase, version: '5.2' | '5.7', raw: Buffer): Promise<ActionResult> {
  const task = 'app.tasks.housekeeping.nap'
  let injected: Promise<void> = Promise.resolve()
  const result = await runOnExample(
    version,
    db,
    { 'ping-task': task, timeout: String(TIMEOUT_S) },
    {
      onSpawn: (_child, files) => {
        injected = (async () => {
          const runId = await waitForRunId(files)
          const client = new pg.Client({ connectionString: db.url })
          await client.connect()
          try {
            const taskId = await pingTaskId(client, runId)
            await waitForWorkerReady(files, runId)
            await client.query(
              `INSERT INTO celery_taskmeta (id, task_id, status, result, date_done) VALUES (nextval('task_id_sequence'), $1, 'SUCCESS', $2, now())`,
              [taskId, raw]
            )
          } finally {
            await client.end()
          }
        })()
        injected.catch(() => {}) // awaited below, after the step
      }
    }
  )
  await injected
  return result
}

/**
 * What Python writes for `a = 'hahaha!'; 44 times a = [a, a]` with pickle.dumps(a, protocol=5):
 * 286 bytes that stand for 2^44 strings (each list holds the one below twice, by memo reference).
 */
function selfNestingPickle(): Buffer {
  const body: number[] = []
  for (let i = 0; i < 44; i++) body.push(0x5d, 0x94, 0x28) // EMPTY_LIST, MEMOIZE, MARK
  body.push(0x8c, 7, ...Buffer.from('hahaha!'), 0x94) // SHORT_BINUNICODE, MEMOIZE
  for (let i = 44; i >= 1; i--) body.push(0x68, i, 0x65) // BINGET the list below again, APPENDS
  body.push(0x2e) // STOP
  const frame = Buffer.alloc(8)
  frame.writeBigUInt64LE(BigInt(body.length))
  return Buffer.concat([Buffer.from([0x80, 0x05, 0x95]), frame, Buffer.from(body)])
}

describe('hostile result rows', () => {
  it('a 286-byte self-nesting pickle as the ping result (Celery 5.2): a finding, not a hang', async () => {
    const db = await exampleDatabase(server)
    const raw = selfNestingPickle()
    expect(raw.length).toBe(286)
    const result = await runWithHostileRow(db, '5.2', raw)
    checkStep(
      GROUP,
      'result row: 286-byte self-nesting pickle (Celery 5.2)',
      result,
      {
        code: 1,
        gates: { runtime: 'warn' },
        evidence:
          /answered undecodable result \(pickle: the value expands to more than 1048576 characters \(parts shared by reference\)\)[^\n]*\n[^]*the result row could not be read safely/,
        timeoutS: TIMEOUT_S,
        secrets: secretsOf(db)
      },
      'a row written for the ping\'s task id holding `[a, a]` nested 44 levels (2^44 strings in 286 bytes): runtime warns "undecodable result (… expands to more than 1048576 characters …)"; summary and report written, within timeout + margin (the old reader hung past SIGTERM); exit 1 from the queues gate (`nap` answers no queue)'
    )
  })

  it('BINBYTES with a negative length as the ping result (Celery 5.7): a finding, not a crash', async () => {
    const db = await exampleDatabase(server)
    const result = await runWithHostileRow(db, '5.7', Buffer.from('800342fbffffff6162632e', 'hex'))
    checkStep(
      GROUP,
      'result row: BINBYTES with a negative length (11 bytes)',
      result,
      {
        code: 1,
        gates: { runtime: 'warn' },
        evidence: /answered undecodable result \(pickle: a length of 4294967291 at byte 7 runs past the end of the 11 bytes\)/,
        timeoutS: TIMEOUT_S,
        secrets: secretsOf(db)
      },
      "the 11 bytes `80 03 42 fb ff ff ff 61 62 63 2e` as the ping's row: runtime warns naming the length past the end; summary and report written (the old reader allocated until the process died); exit 1 from the queues gate (`nap` answers no queue)"
    )
  })
})

describe('hostile JUnit reports', () => {
  const run = (db: ExampleDatabase, junit: string, onSpawn?: RunOptions['onSpawn']): Promise<ActionResult> =>
    runOnExample('5.7', db, { junit, timeout: String(TIMEOUT_S) }, onSpawn ? { onSpawn } : {})

  it('a report that is a symlink to a secret file outside the workspace is refused, never read', async () => {
    const db = await exampleDatabase(server)
    const secret = path.join(outside, 'shadow')
    const line = 'root:$6$trust-test-hash$abcdefgh:19000:0:99999:7:::'
    writeFileSync(secret, `${line}\n`)
    const reports = path.join(inside, 'symlink', 'reports')
    mkdirSync(reports, { recursive: true })
    symlinkSync(secret, path.join(reports, 'junit.xml'))
    const result = await run(db, path.join(reports, '*.xml'))
    const file = result.report?.tests?.files[0]
    expect(file).toMatchObject({ status: 'unreadable', detail: expect.stringContaining(`outside the workspace (it is a link to ${secret})`) })
    checkStep(
      GROUP,
      'junit: symlink to a secret file outside the workspace',
      result,
      {
        code: 0,
        gates: { ci: 'pass' },
        evidence: /1 test report could not be read/,
        timeoutS: TIMEOUT_S,
        secrets: [...secretsOf(db), line, 'trust-test-hash']
      },
      '`reports/junit.xml -> <outside>/shadow`: a finding "outside the workspace (it is a link to …)", the file is never opened: its line appears in no output'
    )
  })

  it('a report that is not XML is described by its size, never quoted', async () => {
    const db = await exampleDatabase(server)
    const password = 'trust-fake-password-5f1c'
    const file = path.join(inside, 'not-xml.xml')
    const content = `DATABASE_PASSWORD=${password}\nFAILED tests/test_x.py::test_y\n`
    writeFileSync(file, content)
    const result = await run(db, file)
    expect(result.report?.tests?.files[0]).toMatchObject({
      status: 'malformed',
      detail: `not XML: ${content.length} bytes of text that does not start with "<" (its content is not shown)`
    })
    checkStep(
      GROUP,
      'junit: a text file with a password line (not XML)',
      result,
      {
        code: 0,
        gates: { ci: 'pass' },
        evidence: /1 test report could not be read/,
        timeoutS: TIMEOUT_S,
        secrets: [...secretsOf(db), password, 'DATABASE_PASSWORD']
      },
      'a finding "not XML: N bytes of text that does not start with `<` (its content is not shown)"; the password line appears in no output'
    )
  })

  it('2 million nested elements stop at the depth limit in bounded memory', async () => {
    const db = await exampleDatabase(server)
    // 14 MB, streamed to disk. Read in full, saxes keeps one open-tag record per level: the old
    // reader took ~700 MB for this file (about 12 million levels exhaust a 4 GB heap).
    const file = path.join(inside, 'deep.xml')
    const out = createWriteStream(file)
    out.write('<testsuites>')
    const open = '<a>'.repeat(10_000)
    const close = '</a>'.repeat(10_000)
    for (let i = 0; i < 200; i++) if (!out.write(open)) await once(out, 'drain')
    for (let i = 0; i < 200; i++) if (!out.write(close)) await once(out, 'drain')
    out.end('</testsuites>')
    await once(out, 'close')
    let peak: { stop: () => number } | undefined
    const result = await run(db, file, (child) => {
      if (child.pid) peak = trackPeakRss(child.pid)
    })
    const peakMb = (peak?.stop() ?? 0) / 1024 / 1024
    expect(result.report?.tests?.files[0]).toMatchObject({
      status: 'malformed',
      detail: 'line 1: elements nested deeper than 256 levels; reading stopped there'
    })
    expect(peakMb).toBeGreaterThan(0)
    expect(peakMb).toBeLessThan(300)
    checkStep(
      GROUP,
      'junit: 2 million nested elements (14 MB)',
      result,
      { code: 0, gates: { ci: 'pass' }, evidence: /1 test report could not be read/, timeoutS: TIMEOUT_S, secrets: secretsOf(db) },
      `a finding "elements nested deeper than 256 levels"; summary and report written; peak RSS of the action ${Math.round(peakMb)} MB (under 300 MB)`
    )
  })
})
