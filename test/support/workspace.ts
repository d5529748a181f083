// A scratch directory inside the workspace the driven action is given (GITHUB_WORKSPACE is the
// repository in test runs): the action reads JUnit reports only from inside its workspace, as a
// user's reports live in the checkout. `.tmp/` is ignored by git.
import { mkdirSync, mkdtempSync } from 'node:fs'
import path from 'node:path'
import { REPO } from './action.js'

export function workspaceTempDir(prefix: string): string {
  const base = path.join(REPO, '.tmp')
  mkdirSync(base, { recursive: true })
  return mkdtempSync(path.join(base, prefix))
}
