// Credentials that may appear in outside text the action has no secret for: a traceback's frame
// arguments (`password=…`, `'password': …`), a libpq keyword string (`conninfo='… password=…'`),
// pydantic's `input_value='postgresql://u:p@…'`, kombu's `sqla+postgresql://user:pass@host`.
// Cut wherever such text is kept or shown, on top of the masking of every secret the run knows
// (SecretRegistry.clean). Patterns, not secrets: they also catch a password nobody registered.
//
// Apply to plain text only (a line, an evidence string), never to serialized JSON or markdown: a
// value pattern could swallow a closing quote there. Serialized output is built from values that
// were scrubbed one by one (scrubStrings).

/** Names whose value is a credential (`PGPASSWORD`, `db_password`, `db_pass`, `mysql_pwd`, `api_key`, `auth_token` …). */
const KEY = String.raw`[\w.-]*?(?:password|passwd|passphrase|secret|secret_?key|token|api_?key|access_?key|_pass|_pwd)`
/** A value after `=` or `:`: quoted whole, or up to the next separator. */
const VALUE = String.raw`(?:[bBrRuU]{1,2}(?=['"]))?(?:'[^'\n]*'|"[^"\n]*")|[^\s,;)}\]&'"]+`

const PATTERNS: ReadonlyArray<[RegExp, (match: string, ...groups: string[]) => string]> = [
  // `'password': 'x'`, `"db_password": "x"` (dict reprs, JSON log records).
  [new RegExp(String.raw`(['"])(${KEY})\1(\s*:\s*)(${VALUE})`, 'gi'), (_m, q, key, sep, value) => `${q}${key}${q}${sep}${hide(value)}`],
  // `password=x`, `PGPASSWORD=x`, `?password=x&…`, `password = 'x y'` (frames, conninfo, env dumps).
  [new RegExp(String.raw`\b(${KEY})(\s*=\s*)(${VALUE})`, 'gi'), (_m, key, sep, value) => `${key}${sep}${hide(value)}`],
  // `Password: x` (YAML, prompts) — only for password-like names: `token:` is too common in prose.
  [/\b([\w.-]*?(?:password|passwd|passphrase):[ \t]+)('[^'\n]*'|"[^"\n]*"|[^\s,;)}\]'"]+)/gi, (_m, head, value) => `${head}${hide(value)}`],
  // `scheme://user:password@host`: everything up to the last '@' of the word is the password (one
  // with an unencoded '@' must not leak in part). The user stays: the broker-config gate compares
  // it with the worker's banner. `**`/`***` (already hidden) and a literal `password` placeholder
  // (an example in our own messages) are left as they are.
  // pydantic cuts a long `input_value` to its first 25 and last 24 characters, `…app:averyLo...internal:5432/db'`:
  // the `@` may be cut away with the rest of the password. A port before the ellipsis is no password.
  [
    /(\/\/)([^\s/@:'"]*):(?!(?:\*+|\d+)(?:\.\.\.|…))([^\s/@'"]*?)(\.\.\.|…)(?=[^\s@]*(?:[\s'"]|$))/gi,
    (_m, slashes, user, _p, dots) => `${slashes}${user}:***${dots}`
  ],
  // The same in a JSON record whose encoder escapes `/` (ujson, PHP, Java): `postgresql:\/\/u:p@h`.
  [/(\/\/|\\\/\\\/)([^\s/\\@:'"]*):(?!(?:\*+|password)@)[^\s]*@/gi, (_m, slashes, user) => `${slashes}${user}:***@`],
  // A percent-encoded URL (a DSN passed as a query parameter): `postgresql%3A%2F%2Fu%3Ap%40h`.
  [/(%2F%2F)([\w.~-]*)%3A(?!(?:\*+|password)%40)[^\s]*%40/gi, (_m, slashes, user) => `${slashes}${user}%3A***%40`]
]

function hide(value: string): string {
  const q = value[0]
  return (q === "'" || q === '"') && value.length >= 2 && value.endsWith(q) ? `${q}***${q}` : '***'
}

/** Cheap pre-check: most lines hold none of these and are returned untouched. */
const MAY_HOLD_CREDENTIALS = /pass|pwd|secret|token|key|@|%40|\/\/\S*(?:\.\.\.|…)/i

export function scrubCredentials(text: string): string {
  if (!MAY_HOLD_CREDENTIALS.test(text)) return text
  let safe = text
  for (const [pattern, replace] of PATTERNS) safe = safe.replace(pattern, replace as (m: string, ...g: string[]) => string)
  return safe
}

/**
 * Applies `clean` to every string in a JSON-like value (objects, arrays), in place, and returns
 * the value: the report is scrubbed field by field before it is rendered or serialized.
 */
export function scrubStrings<T>(value: T, clean: (text: string) => string): T {
  const visit = (v: unknown): unknown => {
    if (typeof v === 'string') return clean(v)
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = visit(v[i])
    } else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>
      for (const k of Object.keys(o)) o[k] = visit(o[k])
    }
    return v
  }
  return visit(value) as T
}
