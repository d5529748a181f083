// Which commit the gates ran on, and whether that is the commit the check run would mark.
//
// A check run on the pull request's head says "this commit passed". That is true when the code
// that ran is the head, or the merge of the head into the base that GitHub prepares for the
// pull request (refs/pull/N/merge, what `pull_request` runs check out, whose checks GitHub itself
// puts on the head). On `pull_request_target` the checkout is the base by default: then the gates
// proved the base, and a green head would let the pull request merge on proof of other code.
import { execFile } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'

/** A full object name: SHA-1, or SHA-256 in a repository that uses it. */
const OBJECT_NAME = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/

/** HEAD and loose refs are one line; packed-refs lists every ref, so it may be large, but bounded. */
const REF_FILE_MAX_BYTES = 4 * 1024
const PACKED_REFS_MAX_BYTES = 32 * 1024 * 1024
/** `git cat-file commit` of one commit: its header and message. */
const COMMIT_MAX_BYTES = 1024 * 1024
const GIT_TIMEOUT_MS = 5_000

export type CheckedOut = { sha: string } | { problem: string }

/**
 * The commit checked out where the gates ran: HEAD of the repository that holds `dir`, read from
 * the files (no git process, nothing of the repository's configuration runs), following a
 * worktree's or submodule's `.git` file and a symbolic HEAD to its loose or packed ref.
 */
export async function checkedOutCommit(dir: string): Promise<CheckedOut> {
  const gitDir = await findGitDir(path.resolve(dir))
  if (gitDir === undefined) return { problem: `${dir} is not inside a git checkout` }
  try {
    const head = (await readBounded(path.join(gitDir, 'HEAD'), REF_FILE_MAX_BYTES)).trim()
    if (OBJECT_NAME.test(head)) return { sha: head }
    const ref = /^ref: (refs\/[^\s]+)$/.exec(head)?.[1]
    if (ref === undefined || ref.split('/').includes('..')) return { problem: `${path.join(gitDir, 'HEAD')} is neither a commit nor a ref` }
    const sha = await resolveRef(gitDir, ref)
    return sha === undefined ? { problem: `HEAD is ${ref}, which has no commit yet` } : { sha }
  } catch (error) {
    return { problem: `HEAD could not be read: ${(error as Error).message}` }
  }
}

/**
 * The parents of a commit, from `git cat-file` (which reads the object as stored, so a shallow
 * clone still names them), or undefined when git cannot say. Bounded in time and output.
 */
export function commitParents(dir: string, sha: string, timeoutMs = GIT_TIMEOUT_MS): Promise<string[] | undefined> {
  if (!OBJECT_NAME.test(sha)) return Promise.resolve(undefined)
  return new Promise((resolve) => {
    execFile(
      'git',
      ['cat-file', 'commit', sha],
      // Only what git needs to find itself and its global configuration: no token, no input.
      { cwd: dir, timeout: Math.max(1, timeoutMs), maxBuffer: COMMIT_MAX_BYTES, env: gitEnv() },
      (error, stdout) => {
        if (error) return resolve(undefined)
        const header = stdout.split('\n\n', 1)[0] ?? ''
        resolve(header.split('\n').flatMap((line) => /^parent ([0-9a-f]{40,64})$/.exec(line)?.[1] ?? []))
      }
    )
  })
}

function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { GIT_TERMINAL_PROMPT: '0' }
  for (const name of ['PATH', 'HOME', 'SystemRoot']) if (process.env[name] !== undefined) env[name] = process.env[name]
  return env
}

export interface Provenance {
  /** The commit the check run would be created on (the pull request's head, else the run's commit). */
  target: string
  /** What ran: the commit, or why it is not known. */
  ran: CheckedOut
  /** Whether a result may be put on `target`. */
  proves: boolean
  /** How `ran` relates to `target`, for the log. */
  relation: 'same commit' | 'merge of the pull request' | 'other code' | 'unknown'
}

export interface ProvenanceInput {
  eventName: string
  /** The pull request's head commit, on pull-request events. */
  pullRequestHead?: string
  /** GITHUB_SHA: on `pull_request`, the merge commit GitHub made for the pull request. */
  runSha?: string
  /** Where the gates ran (the working directory). */
  dir: string
  deadlineAt: number
}

/** Decides whether the gates' result may be put on the commit a check run would go to. */
export async function provenance(input: ProvenanceInput): Promise<Provenance | undefined> {
  const target = input.pullRequestHead ?? input.runSha
  if (target === undefined) return undefined
  const ran = await checkedOutCommit(input.dir)
  if ('problem' in ran) return { target, ran, proves: false, relation: 'unknown' }
  if (ran.sha === target) return { target, ran, proves: true, relation: 'same commit' }
  if (input.pullRequestHead === undefined) return { target, ran, proves: false, relation: 'other code' }
  // `pull_request` checks out GITHUB_SHA, the test merge of this pull request (never so on
  // `pull_request_target`, where GITHUB_SHA is the base branch's last commit).
  if (input.eventName === 'pull_request' && ran.sha === input.runSha) return { target, ran, proves: true, relation: 'merge of the pull request' }
  // Any other merge whose parents include the head (refs/pull/N/merge checked out on purpose).
  const parents = await commitParents(input.dir, ran.sha, Math.min(GIT_TIMEOUT_MS, input.deadlineAt - Date.now()))
  if (parents !== undefined && parents.length > 1 && parents.includes(target)) {
    return { target, ran, proves: true, relation: 'merge of the pull request' }
  }
  return { target, ran, proves: false, relation: 'other code' }
}

/** One sentence on what ran when it is not what the check run would mark. */
export function provenanceSentence(p: Provenance, pullRequest: boolean): string {
  const subject = pullRequest ? "the pull request's head" : "the run's commit"
  if ('problem' in p.ran) return `which commit these gates ran on is not known (${p.ran.problem}), so they prove nothing about ${subject} ${p.target}`
  return `these gates ran on ${p.ran.sha}, not on ${subject} ${p.target}`
}

async function findGitDir(start: string): Promise<string | undefined> {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, '.git')
    const info = await stat(candidate).catch(() => undefined)
    if (info?.isDirectory()) return candidate
    if (info?.isFile()) {
      // A worktree or a submodule: `gitdir: <path>`, relative to the file.
      const line = (await readBounded(candidate, REF_FILE_MAX_BYTES).catch(() => '')).trim()
      const target = /^gitdir: (.+)$/.exec(line)?.[1]
      return target === undefined ? undefined : path.resolve(dir, target)
    }
    if (path.dirname(dir) === dir) return undefined
  }
}

async function resolveRef(gitDir: string, ref: string): Promise<string | undefined> {
  // A linked worktree keeps its HEAD; the branches live in the common directory.
  const common = await readBounded(path.join(gitDir, 'commondir'), REF_FILE_MAX_BYTES)
    .then((text) => path.resolve(gitDir, text.trim()))
    .catch(() => undefined)
  for (const dir of [gitDir, ...(common === undefined ? [] : [common])]) {
    const loose = await readBounded(path.join(dir, ref), REF_FILE_MAX_BYTES).catch(() => undefined)
    if (loose !== undefined && OBJECT_NAME.test(loose.trim())) return loose.trim()
    const packed = await readBounded(path.join(dir, 'packed-refs'), PACKED_REFS_MAX_BYTES).catch(() => undefined)
    const line = packed?.split('\n').find((entry) => entry.endsWith(` ${ref}`))
    const sha = line?.split(' ')[0]
    if (sha !== undefined && OBJECT_NAME.test(sha)) return sha
  }
  return undefined
}

async function readBounded(file: string, maxBytes: number): Promise<string> {
  const info = await stat(file)
  if (!info.isFile()) throw new Error(`${file} is not a file`)
  if (info.size > maxBytes) throw new Error(`${file} has ${info.size} bytes (at most ${maxBytes} expected)`)
  return readFile(file, 'utf8')
}
