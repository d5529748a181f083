// Integration-run preflight: starts and stops one PostgreSQL before any test file does. Every file
// starts its own cluster (fault-injection files stop and restart theirs), so a server that cannot
// run on this machine would otherwise time out in every file's beforeAll; here it fails the run
// once, at once, with the one line that says why and what to do.
import { LocalPostgres } from '../scripts/lib/postgres.mjs'

export async function setup(): Promise<void> {
  let pg: LocalPostgres
  try {
    pg = await LocalPostgres.start()
  } catch (err) {
    const line = err instanceof Error ? err.message : String(err)
    // No stack: the line is the whole message (it names the folder, the reason and the fix).
    const error = new Error(`integration tests cannot start PostgreSQL — ${line}`)
    error.stack = error.message
    throw error
  }
  await pg.destroy()
}
