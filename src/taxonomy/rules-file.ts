// A user's rules file. Apart from rules.ts because of the YAML parser: it is a third of what a
// run would otherwise load at start, and only a run with a `taxonomy-rules` file needs it
// (settings.ts imports this module on demand).
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { compileRules, RulesError, type Rule } from './rules.js'

/** Reads a YAML or JSON rules file (`rules: [...]` or a bare list). */
export function loadRulesFile(file: string): Rule[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new RulesError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  let data: unknown
  try {
    // YAML 1.2 is a superset of JSON: one parser reads both.
    data = parseYaml(text, { maxAliasCount: 100 })
  } catch (e) {
    throw new RulesError(`${file} is not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`)
  }
  return compileRules(data, file)
}
