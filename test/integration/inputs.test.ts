// Bad input gets a one-line error that names the input and what was expected, the gate the input
// belongs to fails, the others are skipped, and the summary, outputs and report are still written.
// Driven through the bundle exactly as the runner runs it.
import { existsSync, rmSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { EXAMPLE_APP, gate, leakedSecrets, pythonFor, runAction, type ActionResult } from '../support/action.js'

const valid = (): Record<string, string> => ({
  app: 'app.celery_app',
  'working-directory': EXAMPLE_APP,
  python: pythonFor('5.7'),
  timeout: '10'
})

function expectInputError(result: ActionResult, failingGate: string, message: RegExp): void {
  expect(result.code).toBe(1)
  const errors = result.stdout.split('\n').filter((l) => l.startsWith('::error::'))
  expect(errors).toHaveLength(1)
  expect(errors[0]).toMatch(message)
  expect(result.outputs.verdict).toBe('fail')
  expect(gate(result, failingGate).status).toBe('fail')
  expect(gate(result, failingGate).evidence).toMatch(message)
  const others = (result.report?.gates ?? []).filter((g) => g.id !== failingGate)
  expect(others.map((g) => g.status)).toEqual(others.map(() => 'skip'))
  expect(result.summary).toMatch(/input error/i)
  expect(result.report?.interrupted?.kind).toBe('input-error')
}

describe('bad inputs', () => {
  it('missing app', async () => {
    const { app: _app, ...rest } = valid()
    expectInputError(await runAction(rest), 'import', /Input "app": is required/)
  })

  it('an app path with shell metacharacters is data, never run', async () => {
    rmSync('/tmp/pwned', { force: true })
    const result = await runAction({ ...valid(), app: 'app.celery_app; touch /tmp/pwned' })
    expectInputError(result, 'import', /Input "app": expected a Python module path .*got "app\.celery_app; touch \/tmp\/pwned"/)
    expect(existsSync('/tmp/pwned')).toBe(false)
  })

  it.each(['0', '-5', 'abc', '1e9'])('timeout %s', async (timeout) => {
    expectInputError(await runAction({ ...valid(), timeout }), 'runtime', /Input "timeout": expected a number of seconds from 1 to 3600, got "/)
  })

  it('unknown fail-on', async () => {
    expectInputError(await runAction({ ...valid(), 'fail-on': 'sometimes' }), 'ci', /Input "fail-on": expected one of foundation, any, never; got "sometimes"/)
  })

  it('a working-directory that does not exist', async () => {
    expectInputError(await runAction({ ...valid(), 'working-directory': 'no/such/dir' }), 'import', /Input "working-directory": expected an existing directory, got "no\/such\/dir"/)
  })

  it('a MySQL or Redis database-url', async () => {
    const mysql = await runAction({ ...valid(), 'database-url': 'mysql://root:hunter22@db:3306/app' })
    expectInputError(mysql, 'db-access', /Input "database-url": expected a PostgreSQL DSN .*got a mysql:\/\/ URL/)
    expect(leakedSecrets(mysql, ['hunter22'])).toEqual([])
    expectInputError(await runAction({ ...valid(), 'database-url': 'redis://localhost:6379/0' }), 'db-access', /got a redis:\/\/ URL/)
    expectInputError(await runAction({ ...valid(), 'database-url': 'not a dsn' }), 'db-access', /got something that is not a URL/)
  })

  it('worker-args with shell syntax', async () => {
    expectInputError(await runAction({ ...valid(), 'worker-args': '--pool=solo; rm -rf /' }), 'runtime', /Input "worker-args": shell syntax is not supported/)
  })
})

describe('a python that is not a usable interpreter', () => {
  it('a path that does not exist fails the import gate, naming the input', async () => {
    const result = await runAction({ ...valid(), python: '/no/such/python3' })
    expect(result.code).toBe(1)
    expect(gate(result, 'import').status).toBe('fail')
    expect(gate(result, 'import').evidence).toMatch(/python "\/no\/such\/python3" was not found \(expected a Python 3 interpreter/)
  })

  it('a program that is not Python fails the import gate', async () => {
    const result = await runAction({ ...valid(), python: '/bin/true' })
    expect(result.code).toBe(1)
    expect(gate(result, 'import').status).toBe('fail')
    expect(gate(result, 'import').evidence).toMatch(/\/bin\/true did not run the probe .*is it a Python 3 interpreter/)
  })
})
