// The post step reads only files inside its own run folder, whatever the state says: the state
// file was writable by everything that ran in the job (the worker among them before worker-env.ts
// withheld GITHUB_STATE; any later step still). A state naming a secret file outside, a symlink
// inside the run folder pointing outside, or a run folder that is itself a symlink: the post step
// stops what it must, warns once, and publishes nothing of the file.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIST_POST, processesOfRun, runAction, stepFiles, type StepFiles } from '../support/action.js'
import { exampleDatabase, runOnExample } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'
import { checkStep } from '../support/reliability.js'

const GROUP = 'Trust'
const SECRET = 'TOP-SECRET-deploy-key-7f3a9c'

let pg: TestPostgres
beforeAll(async () => {
  pg = await TestPostgres.start()
})
afterAll(async () => {
  await pg?.destroy()
})

/** A file the post step must never publish, outside any run folder. */
function secretFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cfg-secret-'))
  const file = path.join(dir, 'id_deploy')
  writeFileSync(file, `-----BEGIN KEY-----\n${SECRET}\n-----END KEY-----\n`)
  return file
}

/** Appends a key to the state file the way a step does (`core.saveState`'s file command). */
function saveState(files: StepFiles, name: string, value: string): void {
  appendFileSync(files.state, `${name}<<EOF_${name}\n${value}\nEOF_${name}\n`)
}

const runFolderOf = (files: StepFiles, runId: string): string => path.join(files.runnerTemp, 'celery-foundation-gates', runId)

async function postStep(files: StepFiles): ReturnType<typeof runAction> {
  return runAction({}, { script: DIST_POST, files, passState: true, killAfterMs: 60_000 })
}

/** Exactly one warning says the log was refused. */
const refused = (stdout: string): boolean =>
  (stdout.match(/::warning::The kept worker's log is not shown: the path saved for it is not a file inside this run's folder/g) ?? []).length === 1

describe('the post step reads only files inside its own run folder', () => {
  it('stops a kept worker but does not publish the file a tampered state points to', async () => {
    const db = await exampleDatabase(pg)
    const files = stepFiles()
    const main = await runOnExample('5.7', db, { 'keep-worker': 'true', gates: 'import, runtime, ci' }, { files })
    const runId = main.report?.runId ?? ''
    try {
      expect(main.code, main.stderr.slice(-2000)).toBe(0)
      expect(processesOfRun(runId).length).toBeGreaterThan(0)
      // What the worker could do through GITHUB_STATE, or any later step of the job.
      saveState(files, 'kept-worker-output', secretFile())
      const post = await postStep(files)
      expect(refused(post.stdout), post.stdout).toBe(true)
      // The summary file is the job's: the post step added no log section to it.
      expect(post.summary.slice(main.summary.length)).not.toContain('Worker log')
      checkStep(
        GROUP,
        'post step: a state naming a file outside the run folder',
        post,
        { code: 0, timeoutS: 15, written: false, secrets: [SECRET, db.password, encodeURIComponent(db.password)] },
        "after keep-worker, the state is made to name a secret file elsewhere: the post step stops the worker (nothing left), warns once, and neither its log nor its summary contains the file's content"
      )
    } finally {
      for (const pid of runId ? processesOfRun(runId) : []) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
    }
  })

  it('does not follow a symlink inside the run folder, nor a run folder that is a symlink', async () => {
    const secret = secretFile()
    // A symlink in the run folder, named as the kept worker's output normally is.
    const linked = stepFiles()
    const linkedRun = 'cfg-0a1b2c3d'
    mkdirSync(runFolderOf(linked, linkedRun), { recursive: true })
    const link = path.join(runFolderOf(linked, linkedRun), 'worker-output.log')
    symlinkSync(secret, link)
    saveState(linked, 'run-id', linkedRun)
    saveState(linked, 'kept-worker-output', link)
    const viaLink = await postStep(linked)
    expect(refused(viaLink.stdout), viaLink.stdout).toBe(true)
    checkStep(
      GROUP,
      'post step: a symlink inside the run folder pointing outside',
      viaLink,
      { code: 0, timeoutS: 15, written: false, secrets: [SECRET] },
      "the run folder's worker-output.log is a symlink to a secret file: refused with one warning, nothing of it published"
    )

    // The run folder itself replaced by a symlink to the secret's directory.
    const swapped = stepFiles()
    const swappedRun = 'cfg-4e5f6a7b'
    mkdirSync(path.dirname(runFolderOf(swapped, swappedRun)), { recursive: true })
    symlinkSync(path.dirname(secret), runFolderOf(swapped, swappedRun))
    saveState(swapped, 'run-id', swappedRun)
    saveState(swapped, 'kept-worker-output', path.join(runFolderOf(swapped, swappedRun), path.basename(secret)))
    const viaFolder = await postStep(swapped)
    expect(refused(viaFolder.stdout), viaFolder.stdout).toBe(true)
    expect(viaFolder.summary + viaFolder.stdout).not.toContain(SECRET)

    // A run id that is no run id cannot lead out of the runs' folder either.
    const climbing = stepFiles()
    saveState(climbing, 'run-id', '../../..')
    saveState(climbing, 'kept-worker-output', secret)
    const viaRunId = await postStep(climbing)
    expect(refused(viaRunId.stdout), viaRunId.stdout).toBe(true)
    expect(viaRunId.summary + viaRunId.stdout).not.toContain(SECRET)

    // The same post step still shows a real log inside the folder: the rule refuses only what is outside.
    const plain = stepFiles()
    const plainRun = 'cfg-8c9d0e1f'
    mkdirSync(runFolderOf(plain, plainRun), { recursive: true })
    const log = path.join(runFolderOf(plain, plainRun), 'worker-output.log')
    writeFileSync(log, 'celery@host ready.\n')
    saveState(plain, 'run-id', plainRun)
    saveState(plain, 'kept-worker-output', log)
    const shown = await postStep(plain)
    expect(refused(shown.stdout)).toBe(false)
    expect(shown.summary).toContain('celery@host ready.')
    for (const f of [linked, swapped, climbing, plain]) rmSync(f.dir, { recursive: true, force: true })
  })
})
