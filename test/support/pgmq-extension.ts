// A PostgreSQL server that has PGMQ as an installable extension (pg_available_extensions), for the
// tests of kombu's init_extension: a private copy of the test binaries with PGMQ's control file and
// its 1.13.0 script (the pgmq package's pgmq.sql, which is written to run as the extension's script
// too) in share/postgresql/extension. PGMQ is pure SQL, so nothing needs compiling. The shared
// binaries are never written to: the copy is this server's own and is removed with it.
import { randomBytes } from 'node:crypto'
import { chmodSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { cachedServerBinaries, newDataParent, PgServer } from '../../scripts/lib/pg-server.mjs'
import { pgmqSql } from './pgmq.js'
import { freePort, SUPERUSER, TestPostgres } from './postgres.js'

export interface ExtensionServer {
  pg: TestPostgres
  destroy(): Promise<void>
}

export async function startWithPgmqExtension(): Promise<ExtensionServer> {
  const bins = await cachedServerBinaries()
  const copy = mkdtempSync(path.join(tmpdir(), 'cfg-pgmq-ext-'))
  chmodSync(copy, 0o755) // the server's OS user (root runs it as `postgres`) must reach it
  try {
    cpSync(path.dirname(path.dirname(bins.postgres)), copy, { recursive: true, verbatimSymlinks: true })
    const { sql, version } = await pgmqSql()
    const dir = path.join(copy, 'share', 'postgresql', 'extension')
    // As PGMQ's own pgmq.control: not trusted, superuser = false (CREATE on the database suffices).
    const control = `comment = 'PGMQ (test copy)'\ndefault_version = '${version}'\nschema = 'pgmq'\nrelocatable = false\nsuperuser = false\n`
    writeFileSync(path.join(dir, 'pgmq.control'), control, { mode: 0o644 })
    writeFileSync(path.join(dir, `pgmq--${version}.sql`), sql, { mode: 0o644 })
    const dataParent = newDataParent()
    const port = await freePort()
    const password = `su-${randomBytes(6).toString('hex')}`
    const server = new PgServer({
      bins: { initdb: path.join(copy, 'bin', 'initdb'), postgres: path.join(copy, 'bin', 'postgres'), ids: bins.ids },
      dataDir: path.join(dataParent, 'data'),
      port,
      user: SUPERUSER,
      password,
      postgresFlags: [],
      onLog: () => {}
    })
    await server.initialise()
    await server.start()
    // LocalPostgres wraps a started server; its constructor is not part of its declared type.
    const Local = TestPostgres as unknown as new (server: PgServer, port: number, password: string, dataDir: string) => TestPostgres
    const pg = new Local(server, port, password, dataParent)
    return {
      pg,
      async destroy() {
        await pg.destroy()
        rmSync(copy, { recursive: true, force: true })
      }
    }
  } catch (err) {
    rmSync(copy, { recursive: true, force: true })
    throw err
  }
}
