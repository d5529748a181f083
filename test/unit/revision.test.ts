// Which commit the gates ran on, read from the checkout's files as git leaves them.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkedOutCommit, provenance, provenanceSentence } from '../../src/github/revision.js'

const HEAD = '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c'
const MERGE = 'aaaabbbbccccddddeeeeffff0000111122223333'
const BASE = '0123456789abcdef0123456789abcdef01234567'

const root = mkdtempSync(path.join(tmpdir(), 'cfg-revision-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** A checkout: `files` relative to its .git directory; returns a directory inside the work tree. */
function checkout(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(root, 'co-'))
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, '.git', name)), { recursive: true })
    writeFileSync(path.join(dir, '.git', name), text)
  }
  mkdirSync(path.join(dir, 'src', 'app'), { recursive: true })
  return path.join(dir, 'src', 'app')
}

describe('checkedOutCommit', () => {
  it('reads a detached HEAD from the repository that holds the directory', async () => {
    expect(await checkedOutCommit(checkout({ HEAD: `${HEAD}\n` }))).toEqual({ sha: HEAD })
  })

  it('follows a branch to its loose ref, or to packed-refs', async () => {
    expect(await checkedOutCommit(checkout({ HEAD: 'ref: refs/heads/main\n', 'refs/heads/main': `${MERGE}\n` }))).toEqual({ sha: MERGE })
    const packed = `# pack-refs with: peeled\n${BASE} refs/heads/other\n${MERGE} refs/heads/main\n`
    expect(await checkedOutCommit(checkout({ HEAD: 'ref: refs/heads/main\n', 'packed-refs': packed }))).toEqual({ sha: MERGE })
  })

  it("follows a worktree's .git file to its HEAD, and its branch to the common directory", async () => {
    const common = mkdtempSync(path.join(root, 'common-'))
    mkdirSync(path.join(common, 'worktrees', 'wt'), { recursive: true })
    mkdirSync(path.join(common, 'refs', 'heads'), { recursive: true })
    writeFileSync(path.join(common, 'worktrees', 'wt', 'HEAD'), 'ref: refs/heads/feature\n')
    writeFileSync(path.join(common, 'worktrees', 'wt', 'commondir'), '../..\n')
    writeFileSync(path.join(common, 'refs', 'heads', 'feature'), `${HEAD}\n`)
    const work = mkdtempSync(path.join(root, 'work-'))
    writeFileSync(path.join(work, '.git'), `gitdir: ${path.join(common, 'worktrees', 'wt')}\n`)
    expect(await checkedOutCommit(work)).toEqual({ sha: HEAD })
  })

  it('says why when it cannot tell', async () => {
    expect(await checkedOutCommit(path.parse(root).root)).toMatchObject({ problem: expect.stringMatching(/is not inside a git checkout$/) })
    expect(await checkedOutCommit(checkout({ HEAD: 'ref: refs/heads/../../../etc/passwd\n' }))).toMatchObject({
      problem: expect.stringMatching(/is neither a commit nor a ref$/)
    })
    expect(await checkedOutCommit(checkout({ HEAD: 'ref: refs/heads/new\n' }))).toEqual({ problem: 'HEAD is refs/heads/new, which has no commit yet' })
    expect(await checkedOutCommit(checkout({ HEAD: 'x'.repeat(10_000) }))).toMatchObject({
      problem: expect.stringMatching(/^HEAD could not be read: .* has 10000 bytes/)
    })
  })
})

describe('provenance', () => {
  const at = (sha: string): string => checkout({ HEAD: `${sha}\n` })
  const deadlineAt = Date.now() + 60_000

  it('proves the head when the head ran, and the merge GitHub made on pull_request', async () => {
    expect(await provenance({ eventName: 'pull_request', pullRequestHead: HEAD, runSha: MERGE, dir: at(HEAD), deadlineAt })).toMatchObject({
      proves: true,
      relation: 'same commit'
    })
    expect(await provenance({ eventName: 'pull_request', pullRequestHead: HEAD, runSha: MERGE, dir: at(MERGE), deadlineAt })).toMatchObject({
      proves: true,
      relation: 'merge of the pull request'
    })
  })

  it('does not prove the head when the base ran on pull_request_target (GITHUB_SHA is the base there)', async () => {
    const proof = await provenance({ eventName: 'pull_request_target', pullRequestHead: HEAD, runSha: BASE, dir: at(BASE), deadlineAt })
    expect(proof).toMatchObject({ target: HEAD, proves: false, relation: 'other code' })
    expect(provenanceSentence(proof!, true)).toBe(`these gates ran on ${BASE}, not on the pull request's head ${HEAD}`)
  })

  it("on other events, proves the run's commit only when it is the one checked out", async () => {
    expect(await provenance({ eventName: 'push', runSha: MERGE, dir: at(MERGE), deadlineAt })).toMatchObject({ proves: true })
    const proof = await provenance({ eventName: 'push', runSha: MERGE, dir: at(BASE), deadlineAt })
    expect(provenanceSentence(proof!, false)).toBe(`these gates ran on ${BASE}, not on the run's commit ${MERGE}`)
  })
})
