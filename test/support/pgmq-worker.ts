// A real Celery 5.7 worker on kombu's pgmq:// transport (test/fixtures/pgmq/pgmq_app.py), run as a
// least-privilege role against a test PostgreSQL, for the PGMQ privilege tests: databases with PGMQ
// granted exactly as PGMQ_NEEDS says, and a worker run that reports whether it got ready, what it
// answered, and what it printed.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { connect, type Database } from '../../src/db/database.js'
import { parseDsn } from '../../src/db/dsn.js'
import { pgmqGrantScript } from '../../src/db/pgmq-privileges.js'
import { pythonFor } from './action.js'
import { installPgmq } from './pgmq.js'
import { SUPERUSER, type TestPostgres } from './postgres.js'

export const PGMQ_FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'pgmq')
export const WORKER_ROLE = 'pgmq_worker'
const PASSWORD = 'pgmq-worker-pw'
export const NODE = 'w1@pgmqtest'
export const INIT_OFF = JSON.stringify({ init_extension: false })

export async function createWorkerRole(pg: TestPostgres): Promise<void> {
  await pg.query('postgres', `CREATE ROLE ${WORKER_ROLE} LOGIN PASSWORD '${PASSWORD}'`)
}

export const brokerUrl = (pg: TestPostgres, database: string, user = WORKER_ROLE, password = PASSWORD): string =>
  pg.url(database, user, password).replace(/^postgresql:/, 'pgmq:')
/** Results as the superuser: the PGMQ tests are about the broker's privileges only. */
export const backendUrl = (pg: TestPostgres, database: string): string => `db+${pg.url(database, SUPERUSER, pg.superPassword)}`
export const superUrl = (pg: TestPostgres, database: string): string => pg.url(database, SUPERUSER, pg.superPassword)

/** The action's connection (a superuser, as with database-url), checking for the worker's role. */
export async function superDb(pg: TestPostgres, database: string, open: Database[]): Promise<Database> {
  const db = await connect(parseDsn(superUrl(pg, database))!)
  open.push(db)
  return db
}

/**
 * GRANTs the worker's role exactly PGMQ_NEEDS, with the script the `sql` command prints
 * (pgmqGrantScript), EXECUTE on PGMQ's functions taken from PUBLIC first.
 */
export async function grantPgmqNeeds(pg: TestPostgres, database: string): Promise<void> {
  await pg.query(database, 'REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA pgmq FROM PUBLIC')
  await pg.query(database, pgmqGrantScript(WORKER_ROLE).join('\n'))
}

/** A new database, PGMQ installed SQL-only (unless `install` is false), granted as PGMQ_NEEDS says. */
export async function preparedDatabase(pg: TestPostgres, database: string, install = true): Promise<void> {
  await pg.createDatabase(database)
  if (!install) return
  await installPgmq(pg, database)
  await grantPgmqNeeds(pg, database)
}

export interface WorkerRun {
  ready: boolean
  result?: string
  log: string
}

/**
 * Boots the fixture app's worker as the worker's role, sends pgmq_app.add(2, 3) as the superuser
 * once it is ready, then stops it. Bounded: 40 s to get ready or die; `giveUpOn` ends the wait
 * early on a line that means it never will (a worker retrying its connection without end).
 */
export async function runWorker(pg: TestPostgres, database: string, opts: string, extra: { args?: string[]; giveUpOn?: RegExp } = {}): Promise<WorkerRun> {
  const env = { ...process.env, BROKER: brokerUrl(pg, database), BACKEND: backendUrl(pg, database), OPTS: opts, PYTHONUNBUFFERED: '1' }
  const worker = execa(pythonFor('5.7'), ['-m', 'celery', '-A', 'pgmq_app', 'worker', '--pool=solo', '-n', NODE, '-l', 'INFO', ...(extra.args ?? [])], {
    cwd: PGMQ_FIXTURES,
    env,
    all: true,
    reject: false,
    forceKillAfterDelay: 10_000
  })
  let log = ''
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 40_000)
    worker.all?.on('data', (chunk: Buffer) => {
      log += chunk.toString()
      if (/ ready\.$/m.test(log) || extra.giveUpOn?.test(log)) {
        clearTimeout(timer)
        resolve(/ ready\.$/m.test(log))
      }
    })
    void worker.then(() => {
      clearTimeout(timer)
      resolve(false)
    })
  })
  let result: string | undefined
  if (ready) {
    const sent = await execa(pythonFor('5.7'), [path.join(PGMQ_FIXTURES, 'send_task.py')], {
      cwd: PGMQ_FIXTURES,
      env: { ...env, SENDER_BROKER: brokerUrl(pg, database, SUPERUSER, pg.superPassword) },
      reject: false,
      timeout: 40_000
    })
    result = /^result (.*)$/m.exec(sent.stdout)?.[1]
  }
  worker.kill('SIGTERM')
  await worker
  return { ready, result, log }
}
