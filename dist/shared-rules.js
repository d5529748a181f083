import { am as GATE_STATUSES } from './shared-format.js';
import { t as array, o as object, k as string, N as NEVER, F as partialRecord, _ as _enum, G as CATEGORIES, H as union } from './shared-actions.js';

// Rules are data: an ordered list, first match wins. Each rule names a category and the
// conditions a failing test case must meet — regular expressions on its message, traceback,
// captured output, id or file, its outcome and phase, and the status of this run's gates — plus
// the remediation shown to the user. The defaults ship in default-rules.ts; a user's rules file
// (YAML or JSON, read by rules-file.ts) comes first, so it can refine or override them.
const PHASES = ['setup', 'call', 'teardown', 'collection'];
/** The gates whose status a rule may depend on: every foundation gate (`ci` judges the tests). */
const FOUNDATION_GATE_IDS = ['import', 'broker-config', 'runtime', 'db-access', 'rls-role', 'queues', 'tasks', 'logs', 'dlq', 'tenant-isolation'];
/** The text fields a pattern can look at. */
/** `any` is the message, text and output together; `test` is `classname::name`. */
const PATTERN_FIELDS = ['message', 'text', 'output', 'any', 'test', 'file'];
const oneOrMany = (t) => union([t, array(t).min(1)]);
/** `pattern` or `/pattern/flags`; compiled here so a bad one is reported with its rule. */
const Pattern = string()
    .min(1)
    .transform((source, ctx) => {
    const literal = /^\/(.*)\/([dgimsuvy]*)$/s.exec(source);
    try {
        // `g`/`y` would make test() stateful between cases; they are dropped.
        return literal ? new RegExp(literal[1], literal[2].replace(/[gy]/g, '')) : new RegExp(source);
    }
    catch (e) {
        ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${e.message}` });
        return NEVER;
    }
});
const When = object({
    outcome: oneOrMany(_enum(['failure', 'error'])).optional(),
    phase: oneOrMany(_enum(PHASES)).optional(),
    gates: partialRecord(_enum(FOUNDATION_GATE_IDS), oneOrMany(_enum(GATE_STATUSES))).optional(),
    message: Pattern.optional(),
    text: Pattern.optional(),
    output: Pattern.optional(),
    any: Pattern.optional(),
    test: Pattern.optional(),
    file: Pattern.optional(),
    /** Patterns that must NOT match (same fields). */
    not: object({
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
    .strict();
const RuleSchema = object({
    id: string().regex(/^[\w.:-]+$/, 'ids are letters, digits, `_`, `.`, `:` and `-`'),
    category: _enum(CATEGORIES),
    description: string().optional(),
    when: When.default({}),
    /**
     * Which line to quote: the line the first pattern matched (default), or the failure's own
     * error line — for rules whose pattern recognises context (a fixture name) rather than the error.
     */
    evidence: _enum(['match', 'error']).default('match'),
    remediation: string().min(1)
})
    .strict();
const RuleList = array(RuleSchema);
const RulesFile = object({ rules: RuleList }).strict();
class RulesError extends Error {
}
function formatIssue(issue) {
    const where = issue.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .replace(/^\./, '');
    return `${where || 'the file'}: ${issue.message}`;
}
/** Validates rules given as data (the defaults, or a parsed file). */
function compileRules(data, source) {
    // Parsed with the schema of the shape given, so errors point into the file, not at a union.
    const parsed = Array.isArray(data) ? RuleList.safeParse(data) : RulesFile.transform((f) => f.rules).safeParse(data);
    if (!parsed.success)
        throw new RulesError(`${source}: ${formatIssue(parsed.error.issues[0])}`);
    const rules = parsed.data;
    const seen = new Set();
    for (const r of rules) {
        if (seen.has(r.id))
            throw new RulesError(`${source}: rule id ${r.id} is used twice`);
        seen.add(r.id);
    }
    return rules;
}

export { PATTERN_FIELDS as P, RulesError as R, compileRules as c };
