// The python input as a newcomer gives it: a relative path. The worker runs in working-directory,
// so a relative path is taken from there (not from where the step runs); when it names no
// interpreter, the import gate's evidence shows the absolute path it resolved to. Driven through
// the bundle; recorded for RELIABILITY.md with the other bad inputs.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { escapeRegExp } from '../support/example.js'
import { afterAll, describe, expect, it } from 'vitest'
import { EXAMPLE_APP, gate, pythonFor, REPO, runAction } from '../support/action.js'
import { checkStep } from '../support/reliability.js'

const GROUP = 'Bad inputs'
const scratch = mkdtempSync(path.join(tmpdir(), 'cfg-python-path-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

// Only the import gate: it needs the interpreter and the app, no database.
const importOnly = (python: string, workingDirectory: string): Record<string, string> => ({
  app: 'app.celery_app',
  'working-directory': workingDirectory,
  python,
  gates: 'import',
  timeout: '10'
})

describe('a relative python path', () => {
  it('is taken from working-directory: the example app imports with a path relative to it', async () => {
    const relative = path.relative(EXAMPLE_APP, pythonFor('5.7'))
    // The step runs in the repository root, where this relative path names nothing.
    expect(existsSync(path.resolve(REPO, relative))).toBe(false)
    // The app reads DATABASE_URL when imported; the import gate does not connect.
    const result = await runAction(importOnly(relative, EXAMPLE_APP), { env: { DATABASE_URL: 'postgresql://app_user:unused@127.0.0.1:9/app' } })
    expect(gate(result, 'import')).toMatchObject({ status: 'pass', evidence: expect.stringMatching(/Celery 5\.7/) })
    expect(result.code).toBe(0)
  })

  it('that names nothing fails the import gate with the absolute path it resolved to', async () => {
    const result = await runAction(importOnly('venv/bin/python', EXAMPLE_APP))
    const resolved = path.join(EXAMPLE_APP, 'venv', 'bin', 'python')
    checkStep(
      GROUP,
      'python as a relative path that does not exist',
      result,
      {
        code: 1,
        gates: { import: 'fail' },
        evidence: new RegExp(`python "venv/bin/python" \\(${escapeRegExp(resolved)}, relative to working-directory\\) was not found`),
        timeoutS: 10
      },
      'import fails naming the input and the absolute path it resolved to'
    )
  })

  it('that names a file that is not executable says so, with the resolved path', async () => {
    const workdir = path.join(scratch, 'app')
    mkdirSync(workdir)
    // Not executable, even for root.
    writeFileSync(path.join(scratch, 'python'), 'not an interpreter\n', { mode: 0o644 })
    const result = await runAction(importOnly('../python', workdir))
    checkStep(
      GROUP,
      'python as a relative path to a file that is not executable',
      result,
      {
        code: 1,
        gates: { import: 'fail' },
        evidence: new RegExp(`python "\\.\\./python" \\(${escapeRegExp(path.join(scratch, 'python'))}, relative to working-directory\\) is not executable`),
        timeoutS: 10
      },
      'import fails naming the input and the absolute path it resolved to'
    )
  })
})
