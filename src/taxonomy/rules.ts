// Rules are data: an ordered list, first match wins. Each rule names a category and the
// conditions a failing test case must meet — regular expressions on its message, traceback,
// captured output, id or file, its outcome and phase, and the status of this run's gates — plus
// the remediation shown to the user. The defaults ship in default-rules.ts; a user's rules file
// (YAML or JSON, read by rules-file.ts) comes first, so it can refine or override them.
import { z } from 'zod'
import { GATE_STATUSES } from '../constants.js'
import { CATEGORIES, type Category } from './model.js'

const PHASES = ['setup', 'call', 'teardown', 'collection'] as const
/** The gates whose status a rule may depend on: every foundation gate (`ci` judges the tests). */
const FOUNDATION_GATE_IDS = ['import', 'broker-config', 'runtime', 'db-access', 'rls-role', 'queues', 'tasks', 'logs', 'dlq', 'tenant-isolation'] as const

/** The text fields a pattern can look at. */
/** `any` is the message, text and output together; `test` is `classname::name`. */
export const PATTERN_FIELDS = ['message', 'text', 'output', 'any', 'test', 'file'] as const
export type PatternField = (typeof PATTERN_FIELDS)[number]

const oneOrMany = <T extends z.ZodTypeAny>(t: T) => z.union([t, z.array(t).min(1)])

/** `pattern` or `/pattern/flags`; compiled here so a bad one is reported with its rule. */
const Pattern = z
  .string()
  .min(1)
  .transform((source, ctx) => {
    const literal = /^\/(.*)\/([dgimsuvy]*)$/s.exec(source)
    try {
      // `g`/`y` would make test() stateful between cases; they are dropped.
      return literal ? new RegExp(literal[1] as string, (literal[2] as string).replace(/[gy]/g, '')) : new RegExp(source)
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(e as Error).message}` })
      return z.NEVER
    }
  })

const When = z
  .object({
    outcome: oneOrMany(z.enum(['failure', 'error'])).optional(),
    phase: oneOrMany(z.enum(PHASES)).optional(),
    gates: z.partialRecord(z.enum(FOUNDATION_GATE_IDS), oneOrMany(z.enum(GATE_STATUSES))).optional(),
    message: Pattern.optional(),
    text: Pattern.optional(),
    output: Pattern.optional(),
    any: Pattern.optional(),
    test: Pattern.optional(),
    file: Pattern.optional(),
    /** Patterns that must NOT match (same fields). */
    not: z
      .object({
        message: Pattern.optional(),
        text: Pattern.optional(),
        output: Pattern.optional(),
        any: Pattern.optional(),
        test: Pattern.optional(),
        file: Pattern.optional()
      })
      .strict()
      .optional()
  })
  .strict()

const RuleSchema = z
  .object({
    id: z.string().regex(/^[\w.:-]+$/, 'ids are letters, digits, `_`, `.`, `:` and `-`'),
    category: z.enum(CATEGORIES),
    description: z.string().optional(),
    when: When.default({}),
    /**
     * Which line to quote: the line the first pattern matched (default), or the failure's own
     * error line — for rules whose pattern recognises context (a fixture name) rather than the error.
     */
    evidence: z.enum(['match', 'error']).default('match'),
    remediation: z.string().min(1)
  })
  .strict()

export type RuleInput = z.input<typeof RuleSchema>
export type Rule = z.output<typeof RuleSchema>

const RuleList = z.array(RuleSchema)
const RulesFile = z.object({ rules: RuleList }).strict()

export class RulesError extends Error {}

function formatIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '')
  return `${where || 'the file'}: ${issue.message}`
}

/** Validates rules given as data (the defaults, or a parsed file). */
export function compileRules(data: unknown, source: string): Rule[] {
  // Parsed with the schema of the shape given, so errors point into the file, not at a union.
  const parsed = Array.isArray(data) ? RuleList.safeParse(data) : RulesFile.transform((f) => f.rules).safeParse(data)
  if (!parsed.success) throw new RulesError(`${source}: ${formatIssue(parsed.error.issues[0] as z.core.$ZodIssue)}`)
  const rules = parsed.data
  const seen = new Set<string>()
  for (const r of rules) {
    if (seen.has(r.id)) throw new RulesError(`${source}: rule id ${r.id} is used twice`)
    seen.add(r.id)
  }
  return rules
}

export type { Category }
