// Where a run keeps its files (worker log, kept worker's output, report): one folder per run id
// under RUNNER_TEMP (or the system temp directory outside a runner). The post step reads only
// files inside that folder: it derives the folder from the run id and the environment, never from
// a path the state hands it, because the state file was writable by whatever ran in the job.
import { closeSync, constants, fstatSync, openSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const RUNS_DIR = 'celery-foundation-gates'
/** What newRunIds() makes: `cfg-` and 8 hex digits. Anything else names no run folder. */
const RUN_ID = /^cfg-[0-9a-f]{8}$/

/** The folder holding every run's folder. */
export function runsRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.RUNNER_TEMP || tmpdir(), RUNS_DIR)
}

/**
 * Opens `file` for reading only if it is a regular file whose real path lies inside the real
 * folder of run `runId` — a folder that is itself no symlink (a worker could have replaced it by
 * one). Returns the open descriptor, or undefined when the file is elsewhere, missing or no
 * regular file. Never blocks: a FIFO put in its place is refused, not waited on.
 */
export function openInsideRunFolder(runId: string, file: string, env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (!RUN_ID.test(runId)) return undefined
  try {
    const base = realpathSync(env.RUNNER_TEMP || tmpdir())
    const folder = path.join(base, RUNS_DIR, runId)
    if (realpathSync(folder) !== folder) return undefined
    const real = realpathSync(path.resolve(folder, file))
    if (!real.startsWith(folder + path.sep)) return undefined
    const fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    if (!fstatSync(fd).isFile()) {
      closeSync(fd)
      return undefined
    }
    return fd
  } catch {
    return undefined
  }
}

/**
 * Removes run `runId`'s folder (worker log, report, connections record) once the run is over and
 * nobody asked to keep it. Only a folder named like a run id, directly under the runs root; a
 * symlink put in its place is removed as a link, never followed. Returns the path removed, or
 * undefined when there was nothing to remove or it could not be.
 */
export function removeRunFolder(runId: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!RUN_ID.test(runId)) return undefined
  const folder = path.join(runsRoot(env), runId)
  try {
    rmSync(folder, { recursive: true, force: true, maxRetries: 2 })
    return folder
  } catch {
    return undefined
  }
}
