// `junit` globs as workflows write them: relative to the workspace (`service/reports/junit.xml`)
// while working-directory is the service. A glob that matches nothing in working-directory is tried
// in the workspace, and the summary says which base matched; a glob that matches nothing anywhere
// names both places. Driven through the bundle with the import gate only (no database needed).
import { copyFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { EXAMPLE_APP, pythonFor, REPO, runAction } from '../support/action.js'
import { checkStep } from '../support/reliability.js'
import { workspaceTempDir } from '../support/workspace.js'

const GROUP = 'Bad inputs'
const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'junit', 'pytest-xunit2.xml')

const inputs = (junit: string): Record<string, string> => ({
  app: 'app.celery_app',
  'working-directory': EXAMPLE_APP,
  python: pythonFor('5.7'),
  gates: 'import',
  timeout: '10',
  junit,
  'fail-on': 'any'
})
const env = { DATABASE_URL: 'postgresql://app_user:unused@127.0.0.1:9/app' }

describe('junit globs relative to the workspace', () => {
  it('are resolved from the workspace when they match nothing in working-directory, and the summary says so', async () => {
    const dir = workspaceTempDir('cfg-junit-base-')
    copyFileSync(FIXTURE, path.join(dir, 'junit.xml'))
    // Relative to the workspace (the repository in test runs), not to examples/tenant-app.
    const glob = `${path.relative(REPO, dir)}/*.xml`
    const result = await runAction(inputs(glob), { env })
    const tests = result.report?.tests
    expect(tests?.files.map((f) => [f.path, f.status])).toEqual([[`${path.relative(REPO, dir)}/junit.xml`, 'ok']])
    expect(tests?.fromWorkspace).toEqual([glob])
    expect(tests?.searched).toEqual([EXAMPLE_APP, REPO])
    expect(result.summary).toContain('matched no file in working-directory; it was resolved from the workspace')
    expect(Number(result.outputs['tests-failed'])).toBeGreaterThan(0)
    checkStep(
      GROUP,
      'junit glob relative to the workspace, not to working-directory',
      result,
      { code: 1, gates: { import: 'pass' }, timeoutS: 10 },
      'read from the workspace, the summary says which base matched; its failing tests fail the step under fail-on: any'
    )
  })

  it('that match nothing anywhere name every place they were looked for', async () => {
    const result = await runAction(inputs('no-such-reports/*.xml'), { env })
    expect(result.report?.tests?.unmatched).toEqual(['no-such-reports/*.xml'])
    expect(result.report?.tests?.searched).toEqual([EXAMPLE_APP, REPO])
    expect(result.summary).toContain(`(looked in \`${EXAMPLE_APP}\` and \`${REPO}\`)`)
    checkStep(
      GROUP,
      'junit glob matching nothing in working-directory or the workspace',
      result,
      { code: 1, gates: { import: 'pass' }, timeoutS: 10 },
      'a finding naming both places; under fail-on: any the unread report fails the step'
    )
  })
})
