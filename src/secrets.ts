// Every secret the run learns (passwords in DSNs, whole DSNs) is registered here before anything
// that could contain it is printed. Registration masks it in the runner's log (core.setSecret);
// `redact` is applied to all outside text we write ourselves (summary, report, outputs, log file),
// because masking by the runner does not cover files and is not guaranteed for derived values.
// `clean` adds the credential patterns of util/scrub.ts, for a password nobody registered.
import { parseDsn } from './db/dsn.js'
import { scrubCredentials } from './util/scrub.js'

export type MaskFn = (secret: string) => void

export class SecretRegistry {
  private readonly secrets = new Set<string>()
  private ordered: string[] = []

  constructor(private readonly mask: MaskFn = () => {}) {}

  /** Registers a secret and the forms it takes in URLs and logs (percent-encoded, decoded). */
  add(secret: string | undefined | null): void {
    if (secret) this.register(secretForms(secret))
  }

  /** Registers a value exactly as given (a whole DSN: its encodings would only be noise). */
  addExact(secret: string | undefined | null): void {
    if (secret && secret.length >= 2) this.register([secret])
  }

  private register(forms: string[]): void {
    for (const form of forms) {
      if (this.secrets.has(form)) continue
      this.secrets.add(form)
      this.mask(form)
    }
    // Longest first, so a password that contains another secret is replaced whole.
    this.ordered = [...this.secrets].sort((a, b) => b.length - a.length)
  }

  redact(text: string): string {
    let out = text
    for (const secret of this.ordered) {
      if (out.includes(secret)) out = out.split(secret).join('***')
    }
    return out
  }

  /** Outside text, plain (a line, a message): every known secret, then every credential pattern. */
  clean(text: string): string {
    return scrubCredentials(this.redact(text))
  }

  get size(): number {
    return this.secrets.size
  }
}

function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret])
  const tryAdd = (f: () => string): void => {
    try {
      const v = f()
      if (v) forms.add(v)
    } catch {
      // Not every string decodes; the raw form is registered regardless.
    }
  }
  tryAdd(() => encodeURIComponent(secret))
  tryAdd(() => decodeURIComponent(secret))
  // SQLAlchemy's quote_plus style, used when people build URLs in Python.
  tryAdd(() => encodeURIComponent(secret).replace(/%20/g, '+'))
  tryAdd(() => decodeURIComponent(secret.replace(/\+/g, ' ')))
  // Python's own encoders also encode `!'()*` (which encodeURIComponent keeps): urllib's quote
  // (keeps `/`) and quote_plus (what SQLAlchemy 2.1 renders a URL's password with).
  tryAdd(() => pythonQuote(secret, '/'))
  tryAdd(() => pythonQuote(secret, '').replace(/%20/g, '+'))
  // Percent-encoding is case-insensitive, and some encoders write lower-case hex.
  for (const form of [...forms]) if (/%[0-9A-F]{2}/.test(form)) forms.add(form.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()))
  // A JSON log record escapes `"`, `\` and controls, and some encoders (ujson) `/` too.
  for (const form of [...forms]) {
    const json = JSON.stringify(form).slice(1, -1)
    forms.add(json)
    forms.add(json.replace(/\//g, '\\/'))
  }
  // Single characters would turn every log into asterisks; they are still redacted as part of
  // the DSN they appear in.
  return [...forms].filter((f) => f.length >= 2)
}

/** urllib.parse.quote: UTF-8, every byte but letters, digits, `_.-~` and `safe` as upper-case `%XX`. */
function pythonQuote(text: string, safe: string): string {
  let out = ''
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte)
    out += /[A-Za-z0-9_.~-]/.test(c) || safe.includes(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** `scheme://…` up to the next blank or quote: each URL of a value (Celery's `;`-separated failover lists too). */
const URL_IN_TEXT = /[a-z][\w+.-]*:\/\/[^\s'"<>]+/gi
/** libpq keyword strings: `host=db user=app password=s3cret` or `password='s 3'`. */
const KEYWORD_PASSWORD = /\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|[^\s'"&;]+)/gi
/** Variables whose value is itself a credential (`PGPASSWORD`, `REDIS_PASSWORD`, `API_TOKEN`, `DB_PASS`, `MYSQL_PWD` …; not `PWD`, the current directory). */
const SECRET_NAME = /(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|SECRET_?KEY|TOKEN|API_?KEY|PRIVATE_?KEY|_PASS|_PWD)$/i
/** Values that cannot be a credential and would turn every `true` of a report into `***`. */
const NOT_A_SECRET = /^(?:true|false|yes|no|on|off|none|null|\d{1,4})$/i

/**
 * Registers every credential `text` carries: each URL with a password (whole, and its password),
 * each libpq `password=…`. For text the run has not printed yet (an environment value, a
 * bootstrap event), so that the runner masks it and `redact` hides it before it is shown.
 */
export function registerSecretsInText(text: string, registry: SecretRegistry): void {
  if (!text.includes('://') && !/password/i.test(text)) return
  for (const match of text.matchAll(URL_IN_TEXT)) {
    // A list joined by ';' or ',' (failover brokers) reads as one word: split where a scheme starts.
    for (const url of match[0].split(/[;,](?=[a-z][\w+.-]*:\/\/)/i)) registerUrl(url.replace(/[;,.)\]]+$/, ''), registry)
  }
  for (const m of text.matchAll(KEYWORD_PASSWORD)) {
    const value = m[1] as string
    registry.add(value.startsWith("'") ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value)
  }
}

function registerUrl(url: string, registry: SecretRegistry): void {
  const parts = parseDsn(url)
  const query = url.indexOf('?')
  // An '@' in the query string is not the end of a password.
  const at = (query < 0 ? url : url.slice(0, query)).lastIndexOf('@')
  const start = url.indexOf('://') + 3
  const colon = url.indexOf(':', start)
  const userinfo = colon > 0 && colon < at ? url.slice(colon + 1, at) : undefined
  const passwords = [parts?.password, parts?.query.password, userinfo].filter((p): p is string => !!p && !HIDDEN.test(p))
  if (!passwords.length) return
  registry.addExact(url)
  // `userinfo` is everything between the user's ':' and the last '@': what a reader who does
  // not know SQLAlchemy's grammar would take as the password (one with an unencoded '@').
  for (const p of passwords) registry.add(p)
}

/** A password already hidden (Celery prints `**`): registering it would hide markdown's bold. */
const HIDDEN = /^\*+$/

/**
 * Registers, before anything runs, every secret the worker will be able to print: the whole
 * environment it inherits is scanned (a superset of what it is given), so an app that quotes its
 * DSN in an import error or prints it at start-up leaks nothing, even before it is probed.
 */
export function registerEnvironmentSecrets(env: NodeJS.ProcessEnv, registry: SecretRegistry): void {
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue
    if (SECRET_NAME.test(name) && !NOT_A_SECRET.test(value.trim())) registry.add(value)
    registerSecretsInText(value, registry)
  }
}
