// The example app's database, one fresh database per scenario: setup.sql as the migration owner
// would run it, then optionally a variant script that breaks exactly one thing.
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { EXAMPLE_APP, pythonFor, runAction, type ActionResult, type CeleryVersion, type RunOptions } from './action.js'
import type { TestPostgres } from './postgres.js'

export const SQL_DIR = path.join(EXAMPLE_APP, 'sql')

export interface ExampleDatabase {
  database: string
  appRole: string
  ownerRole: string
  password: string
  /** DATABASE_URL for the app (the app derives its broker and result backend from it). */
  url: string
}

let counter = 0

export async function exampleDatabase(pg: TestPostgres, options: { variants?: string[]; appRole?: string; password?: string } = {}): Promise<ExampleDatabase> {
  counter += 1
  const database = `s${counter}_${randomBytes(3).toString('hex')}`
  const appRole = options.appRole ?? `${database}_app`
  const ownerRole = `${database}_owner`
  // Characters that must be URL-encoded in a DSN, so masking is exercised on every run.
  const password = options.password ?? `pw-${randomBytes(6).toString('hex')}@:/%`
  await pg.createDatabase(database)
  const vars = { owner_role: ownerRole, app_role: appRole, app_password: password }
  await pg.applySqlFile(database, path.join(SQL_DIR, 'setup.sql'), vars)
  for (const variant of options.variants ?? []) await pg.applySqlFile(database, path.join(SQL_DIR, 'variants', `${variant}.sql`), vars)
  return { database, appRole, ownerRole, password, url: pg.url(database, appRole, password) }
}

/**
 * The action on the example app as most tests run it: Celery `version`, solo pool, the database's
 * role as the expected one, a 30 s timeout, and the app's DATABASE_URL (override any of them).
 */
export function runOnExample(
  version: CeleryVersion,
  db: ExampleDatabase,
  inputs: Record<string, string> = {},
  options: RunOptions = {}
): Promise<ActionResult> {
  return runAction(
    {
      app: 'app.celery_app',
      'working-directory': EXAMPLE_APP,
      python: pythonFor(version),
      'expected-role': db.appRole,
      timeout: '30',
      'worker-args': '--pool=solo',
      ...inputs
    },
    { ...options, env: { DATABASE_URL: db.url, ...options.env } }
  )
}

/**
 * Runs some of the example suite's files with pytest in the app's Celery 5.7 environment, the way
 * a user's test step would, writing the JUnit report to `junit`; resolves to that path. pytest
 * exits 1 when tests failed, which is the point of these runs; no report means it broke.
 */
export async function runExamplePytest(databaseUrl: string, junit: string, files: string[], env: Record<string, string> = {}): Promise<string> {
  const run = await execa(pythonFor('5.7'), ['-m', 'pytest', ...files, `--junitxml=${junit}`, '-q'], {
    cwd: EXAMPLE_APP,
    env: { DATABASE_URL: databaseUrl, ...env },
    stdin: 'ignore',
    all: true,
    reject: false
  })
  if (existsSync(junit)) return junit
  throw new Error(`pytest exited ${run.exitCode} without a JUnit report:\n${run.all.slice(-3000)}`)
}

/** What must appear in no output of a run on `db`: its password (plain and percent-encoded) and its DSN. */
export function secretsOf(db: ExampleDatabase): string[] {
  return [db.password, encodeURIComponent(db.password), db.url]
}

/** The same, when a run was also given the superuser's DSN (`superUrl`, on `pg`). */
export function secretsWithSuperuser(db: ExampleDatabase, pg: TestPostgres, superUrl: string): string[] {
  return [...secretsOf(db), pg.superPassword, encodeURIComponent(pg.superPassword), superUrl]
}

/** `text` as a literal inside a RegExp (role and database names carry `_`, `.` and digits). */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
