// Puts one failing test case into one category: the first rule whose conditions all hold wins;
// no rule, no guess — the case is `unknown`. The evidence is the line where the deciding pattern
// matched, so a reader can find it in the report.
import type { GateStatus } from '../constants.js'
import type { TestCase } from '../junit/model.js'
import { clipString } from '../junit/outcome.js'
import { scrubCredentials } from '../util/scrub.js'
import type { Category, TaxonomyEntry } from './model.js'
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

/** Where a pattern matched: which text, at which index. */
interface Hit {
  text: string
  index: number
}

function searchIn(re: RegExp, text: string): Hit | undefined {
  if (!text) return undefined
  const m = re.exec(text)
  return m ? { text, index: m.index } : undefined
}

/**
 * Searches the texts a field stands for, one by one rather than joined and without an array per
 * call: a run over 100,000 failing tests and two dozen rules must allocate nothing per miss. `any`
 * is what the runner wrote about the failure — not the test's id: a module named test_readiness
 * must not make every failure in it look like one.
 */
function search(re: RegExp, tc: TestCase, field: PatternField): Hit | undefined {
  switch (field) {
    case 'message':
      return searchIn(re, tc.message)
    case 'text':
      return searchIn(re, tc.text)
    case 'output':
      return searchIn(re, tc.systemOut) ?? searchIn(re, tc.systemErr)
    case 'any':
      return searchIn(re, tc.message) ?? searchIn(re, tc.text) ?? searchIn(re, tc.systemOut) ?? searchIn(re, tc.systemErr)
    case 'test':
      return searchIn(re, `${tc.classname}::${tc.name}`)
    case 'file':
      return searchIn(re, tc.file ?? tc.classname)
  }
}

/**
 * A rule as the hot loop wants it: sets and arrays built once, its remediation filled in. Gate
 * conditions are not here: the gates' statuses are fixed for a run, so a rule whose gates do not
 * hold is left out of the run's list once, instead of being checked for each failing case.
 */
interface Compiled {
  rule: Rule
  outcomes?: Set<string>
  phases?: Set<string>
  not: Array<[PatternField, RegExp]>
  patterns: Array<[PatternField, RegExp]>
  remediation: string
}

const setOf = <T extends string>(v: T | T[] | undefined): Set<string> | undefined => (v === undefined ? undefined : new Set(Array.isArray(v) ? v : [v]))

function gatesHold(rule: Rule, ctx: ClassifyContext): boolean {
  for (const [gate, wanted] of Object.entries(rule.when.gates ?? {})) {
    const status = ctx.gates[gate]
    if (!status || !setOf(wanted)?.has(status)) return false
  }
  return true
}

function compile(rule: Rule, ctx: ClassifyContext): Compiled {
  const w = rule.when
  return {
    rule,
    outcomes: setOf(w.outcome),
    phases: setOf(w.phase),
    not: PATTERN_FIELDS.flatMap((f) => (w.not?.[f] ? [[f, w.not[f]] as [PatternField, RegExp]] : [])),
    patterns: PATTERN_FIELDS.flatMap((f) => (w[f] ? [[f, w[f]] as [PatternField, RegExp]] : [])),
    remediation: fill(rule.remediation, ctx.values)
  }
}

/** Where a rule matched, for the evidence line (null: no pattern); undefined when it does not apply. */
function matchRule(c: Compiled, tc: TestCase): Hit | null | undefined {
  if (c.outcomes && !c.outcomes.has(tc.outcome)) return undefined
  if (c.phases && !c.phases.has(tc.phase)) return undefined
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
  const short = safe.length > MAX_EVIDENCE ? `${clipString(safe, MAX_EVIDENCE - 1)}…` : safe
  // A flat copy: concatenating then slicing leaves V8 a new string of its own (a Buffer round trip
  // did the same at ten times the cost: 300 ms for 100,000 entries).
  return short.length < 13 ? short : (short + ' ').slice(0, -1)
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

export type Classifier = (tc: TestCase) => TaxonomyEntry

/** Classifies the cases of one run: `rules` in order against this run's gates and values. */
export function classifier(rules: readonly Rule[], ctx: ClassifyContext): Classifier {
  const active = rules.filter((rule) => gatesHold(rule, ctx)).map((rule) => compile(rule, ctx))
  return (tc) => {
    // Only failing and erroring cases are classified; anything else gets no rule.
    if (tc.outcome === 'failure' || tc.outcome === 'error') {
      for (const c of active) {
        const hit = matchRule(c, tc)
        if (hit === undefined) continue
        const evidence = c.rule.evidence === 'match' && hit ? lineAround(hit.text, hit.index) : defaultEvidence(tc)
        return entry(tc, c.rule.category, c.rule.id, evidence || defaultEvidence(tc), c.remediation)
      }
    }
    return entry(tc, 'unknown', NO_RULE, defaultEvidence(tc), NO_RULE_REMEDIATION)
  }
}

let last: { rules: readonly Rule[]; ctx: ClassifyContext; run: Classifier } | undefined

/** One case (a classifier for the same rules and context is reused between calls). */
export function classify(tc: TestCase, rules: readonly Rule[], ctx: ClassifyContext): TaxonomyEntry {
  if (last?.rules !== rules || last.ctx !== ctx) last = { rules, ctx, run: classifier(rules, ctx) }
  return last.run(tc)
}

/** One literal, so every entry has the same shape and no intermediate object is made per case. */
function entry(tc: TestCase, category: Category, rule: string, evidence: string, remediation: string): TaxonomyEntry {
  return {
    report: tc.report,
    classname: tc.classname,
    name: tc.name,
    outcome: tc.outcome as TaxonomyEntry['outcome'],
    phase: tc.phase,
    category,
    rule,
    evidence,
    remediation
  }
}
