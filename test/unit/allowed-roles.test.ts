// The allowed-roles input: role names, comma or newline separated, each held to what a PostgreSQL
// role name can be; a wrong one is one line naming the input (src/settings.ts).
import { describe, expect, it } from 'vitest'
import { Inputs } from '../../src/constants.js'
import { GATE_OF_INPUT, InputError, parseSettings } from '../../src/settings.js'

const APP = { [Inputs.App]: 'app.celery_app' }

describe('parseSettings allowed-roles', () => {
  it('is empty by default', () => {
    expect(parseSettings(APP).allowedRoles).toEqual([])
  })

  it('splits on commas and newlines, keeps spaces inside a name, drops empties and duplicates', () => {
    expect(parseSettings({ ...APP, [Inputs.AllowedRoles]: 'reporting, results writer\n\nreporting,App-User' }).allowedRoles).toEqual([
      'reporting',
      'results writer',
      'App-User'
    ])
  })

  it('rejects a name longer than 63 bytes in one line naming the input', () => {
    let error: unknown
    try {
      parseSettings({ ...APP, [Inputs.AllowedRoles]: `ok, ${'é'.repeat(32)}` })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InputError)
    const message = (error as Error).message
    expect(message).toMatch(/^Input "allowed-roles": expected PostgreSQL role names \(at most 63 bytes each\), comma or newline separated, got "é+"$/)
    expect(message.split('\n')).toHaveLength(1)
  })

  it('rejects a control character', () => {
    expect(() => parseSettings({ ...APP, [Inputs.AllowedRoles]: 'a\tb' })).toThrow(/Input "allowed-roles": expected PostgreSQL role names.*got "a\?b"/)
  })

  it('belongs to rls-role', () => {
    expect(GATE_OF_INPUT[Inputs.AllowedRoles]).toBe('rls-role')
  })
})
