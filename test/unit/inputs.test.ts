// One source for the inputs' defaults: the table in src/inputs.ts. action.yml (what the runner
// reads) must name the same inputs with the same defaults, and the settings must treat an input
// left empty exactly as one given its default. (The CLI's flags: test/unit/cli.test.ts.)
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { Inputs, type InputName } from '../../src/constants.js'
import { INPUTS } from '../../src/inputs.js'
import { parseSettings, type RawInputs } from '../../src/settings.js'

const REPO = path.resolve(import.meta.dirname, '..', '..')
type Declared = { default?: unknown; required?: boolean; description?: string }
const actionInputs = (parse(readFileSync(path.join(REPO, 'action.yml'), 'utf8')) as { inputs: Record<string, Declared> }).inputs

describe('the inputs table and action.yml', () => {
  it('name the same inputs, in the same order', () => {
    expect(Object.keys(INPUTS)).toEqual(Object.keys(actionInputs))
    expect(Object.keys(INPUTS)).toEqual(Object.values(Inputs))
  })

  it('state the same default and the same required flag for every input', () => {
    for (const [name, declared] of Object.entries(actionInputs)) {
      const spec = INPUTS[name as InputName]
      // action.yml's defaults are strings, as the runner passes them ('60', 'false'), never YAML numbers or booleans.
      if (declared.default !== undefined) expect({ name, type: typeof declared.default }).toEqual({ name, type: 'string' })
      expect({ name, default: spec.default, required: spec.required ?? false }).toEqual({
        name,
        default: declared.default ?? '',
        required: declared.required ?? false
      })
    }
  })

  it('describe every input in one line, and at length in action.yml', () => {
    for (const [name, spec] of Object.entries(INPUTS)) {
      expect(spec.summary, name).toMatch(/^[^\n]{10,200}$/)
      expect(actionInputs[name]?.description, name).toBeTruthy()
    }
  })
})

describe('the settings read their defaults from the table', () => {
  it('an input left out, empty or blank means its default', () => {
    const app = { [Inputs.App]: 'app.celery_app' }
    const spelled: RawInputs = { ...app }
    const blank: RawInputs = { ...app }
    for (const [name, spec] of Object.entries(INPUTS) as Array<[InputName, (typeof INPUTS)[InputName]]>) {
      if (name === Inputs.App) continue
      spelled[name] = spec.default
      blank[name] = '  '
    }
    const leftOut = parseSettings(app)
    expect(parseSettings(spelled)).toEqual(leftOut)
    expect(parseSettings(blank)).toEqual(leftOut)
    // The defaults the README promises, as the run sees them.
    expect(leftOut).toMatchObject({
      python: 'python3',
      expectedRole: 'app_user',
      pingTask: 'celery.ping',
      timeoutSeconds: 60,
      failOn: 'foundation',
      logFields: ['level', 'logger', 'message'],
      keepWorker: false,
      prComment: true,
      checkRun: false
    })
  })
})
