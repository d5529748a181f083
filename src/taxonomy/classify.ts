// Puts one failing test case into one category: the first rule whose conditions all hold wins;
// no rule, no guess — the case is `unknown`. The evidence is the line where the deciding pattern
// matched, so a reader can find it in the report.
import type { GateStatus } from '../constants.js'
import type { TestCase } from '../junit/model.js'
import { scrubCredentials } from '../util/scrub.js'
import type { TaxonomyEntry } from './model.js'
import { PATTERN_FIELDS, type PatternField, type Rule } from './rules.js'

export interface ClassifyContext {
  /** This run's gate statuses, by gate id. */
  gates: Partial<Record<string, GateStatus>>
  /** Values remediations may quote as `{name}` (e.g. how fast the action's own ping answered). */
  values: Record<string, string>
}

export const NO_RULE = 'no-rule-matched'
const NO_RULE_REMEDIATION =
  'No rule explains this failure, so it is not attributed to the foundation or to the test harness: read its traceback; if it recurs, name its cause with a rule in taxonomy-rules.'
const MAX_EVIDENCE = 300

/** The texts a field stands for. `any` is what the runner wrote about the failure — not the
 * test's id: a module named test_readiness must not make every failure in it look like one. */
function textsOf(tc: TestCase, field: PatternField): string[] {
  switch (field) {
    case 'message':
      return [tc.message]
    case 'text':
      return [tc.text]
    case 'output':
      return [tc.systemOut, tc.systemErr]
    case 'any':
      return [tc.message, tc.text, tc.systemOut, tc.systemErr]
    case 'test':
      return [`${tc.classname}::${tc.name}`]
    case 'file':
      return [tc.file ?? tc.classname]
  }
}

/** Where a pattern matched: which text, at which index. Texts are tested one by one rather than
 * joined, so a run over 100,000 failing tests allocates no copy of each traceback. */
interface Hit {
  text: string
  index: number
}

function search(re: RegExp, tc: TestCase, field: PatternField): Hit | undefined {
  for (const text of textsOf(tc, field)) {
    if (!text) continue
    const m = re.exec(text)
    if (m) return { text, index: m.index }
  }
  return undefined
}

/** A rule's conditions in the shape the hot loop wants: sets and arrays built once per rule. */
interface Conditions {
  outcomes?: Set<string>
  phases?: Set<string>
  gates: Array<[string, Set<string>]>
  not: Array<[PatternField, RegExp]>
  patterns: Array<[PatternField, RegExp]>
}

const compiled = new WeakMap<Rule, Conditions>()
const setOf = <T extends string>(v: T | T[] | undefined): Set<string> | undefined => (v === undefined ? undefined : new Set(Array.isArray(v) ? v : [v]))

function conditionsOf(rule: Rule): Conditions {
  let c = compiled.get(rule)
  if (c) return c
  const w = rule.when
  c = {
    outcomes: setOf(w.outcome),
    phases: setOf(w.phase),
    gates: Object.entries(w.gates ?? {}).map(([gate, wanted]) => [gate, setOf(wanted) as Set<string>]),
    not: PATTERN_FIELDS.flatMap((f) => (w.not?.[f] ? [[f, w.not[f]] as [PatternField, RegExp]] : [])),
    patterns: PATTERN_FIELDS.flatMap((f) => (w[f] ? [[f, w[f]] as [PatternField, RegExp]] : []))
  }
  compiled.set(rule, c)
  return c
}

/** Where a rule matched, for the evidence line (null: no pattern); undefined when it does not apply. */
function matchRule(rule: Rule, tc: TestCase, ctx: ClassifyContext): Hit | null | undefined {
  const c = conditionsOf(rule)
  if (c.outcomes && !c.outcomes.has(tc.outcome)) return undefined
  if (c.phases && !c.phases.has(tc.phase)) return undefined
  for (const [gate, wanted] of c.gates) {
    const status = ctx.gates[gate]
    if (!status || !wanted.has(status)) return undefined
  }
  for (const [field, re] of c.not) if (search(re, tc, field)) return undefined
  let first: Hit | null = null
  for (const [field, re] of c.patterns) {
    const hit = search(re, tc, field)
    if (!hit) return undefined
    first ??= hit
  }
  return first
}

/** The whole line around a match, trimmed for an evidence cell. */
function lineAround(text: string, index: number): string {
  const start = text.lastIndexOf('\n', index) + 1
  const end = text.indexOf('\n', index)
  return clip(text.slice(start, end < 0 ? undefined : end).trim())
}

/**
 * At most MAX_EVIDENCE characters without credentials, as a string of its own: a slice would keep
 * the whole traceback it came from alive, and 100,000 kept entries would hold 100,000 tracebacks.
 */
function clip(line: string): string {
  // pytest prints every frame's arguments, so a failed connection shows `password=…` or a DSN.
  const safe = scrubCredentials(line)
  const short = safe.length > MAX_EVIDENCE ? `${safe.slice(0, MAX_EVIDENCE - 1)}…` : safe
  return Buffer.from(short, 'utf8').toString('utf8')
}

const FIRST_NONBLANK_LINE = /^[ \t]*(\S.*)$/m
// pytest's longrepr shows the error line prefixed `E   `; it says more than a bare message.
const PYTEST_ERROR_LINE = /^E\s{2,}(\S.*)$/m

/** Without a matching pattern, the first meaningful line the runner wrote about the failure. */
function defaultEvidence(tc: TestCase): string {
  const line = FIRST_NONBLANK_LINE.exec(tc.message)?.[1] ?? PYTEST_ERROR_LINE.exec(tc.text)?.[1] ?? FIRST_NONBLANK_LINE.exec(tc.text)?.[1]
  return clip((line ?? `${tc.outcome} in ${tc.phase}`).trim())
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole)
}

/** Remediations filled once per rule and run, shared by every entry of that rule. */
const filled = new WeakMap<Rule, { values: Record<string, string>; text: string }>()

function remediationOf(rule: Rule, values: Record<string, string>): string {
  const hit = filled.get(rule)
  if (hit && hit.values === values) return hit.text
  const text = fill(rule.remediation, values)
  filled.set(rule, { values, text })
  return text
}

export function classify(tc: TestCase, rules: readonly Rule[], ctx: ClassifyContext): TaxonomyEntry {
  const base = {
    report: tc.report,
    classname: tc.classname,
    name: tc.name,
    outcome: tc.outcome as TaxonomyEntry['outcome'],
    phase: tc.phase
  }
  // Only failing and erroring cases are classified; anything else gets no rule.
  const failing = tc.outcome === 'failure' || tc.outcome === 'error'
  for (const rule of failing ? rules : []) {
    const hit = matchRule(rule, tc, ctx)
    if (hit === undefined) continue
    const evidence = rule.evidence === 'match' && hit ? lineAround(hit.text, hit.index) : defaultEvidence(tc)
    return { ...base, category: rule.category, rule: rule.id, evidence: evidence || defaultEvidence(tc), remediation: remediationOf(rule, ctx.values) }
  }
  return { ...base, category: 'unknown', rule: NO_RULE, evidence: defaultEvidence(tc), remediation: NO_RULE_REMEDIATION }
}
