// PGMQ for the tests, installed the way the pgmq PyPI package documents a SQL-only install (no
// server extension): its bundled pgmq/sql/pgmq.sql, run once per database by a superuser. The SQL
// comes from the Celery 5.7 environment's own pgmq package, so the version under test is the one
// kombu's pgmq:// transport runs against.
import { readFile } from 'node:fs/promises'
import { execa } from 'execa'
import { pythonFor } from './action.js'
import type { TestPostgres } from './postgres.js'

let sqlText: Promise<{ sql: string; version: string }> | undefined

/** PGMQ's SQL and version as bundled in the pgmq package of the Celery 5.7 environment. */
export function pgmqSql(): Promise<{ sql: string; version: string }> {
  sqlText ??= (async () => {
    const { stdout } = await execa(pythonFor('5.7'), [
      '-c',
      'import importlib.resources as r, json; d = r.files("pgmq") / "sql"; ' +
        'print(json.dumps([str(d / "pgmq.sql"), (d / "pgmq.sql.version").read_text().strip()]))'
    ])
    const [file, version] = JSON.parse(stdout) as [string, string]
    return { sql: await readFile(file, 'utf8'), version }
  })()
  return sqlText
}

/** Installs PGMQ (schema `pgmq`) into `database` as the superuser; resolves to its version. */
export async function installPgmq(pg: TestPostgres, database: string): Promise<string> {
  const { sql, version } = await pgmqSql()
  // One simple-protocol query runs the whole script (functions with dollar-quoted bodies included).
  await pg.query(database, sql)
  return version
}
