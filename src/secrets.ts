// Every secret the run learns (passwords in DSNs, whole DSNs) is registered here before anything
// that could contain it is printed. Registration masks it in the runner's log (core.setSecret);
// `redact` is applied to all outside text we write ourselves (summary, report, outputs, log file),
// because masking by the runner does not cover files and is not guaranteed for derived values.

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
  // Single characters would turn every log into asterisks; they are still redacted as part of
  // the DSN they appear in.
  return [...forms].filter((f) => f.length >= 2)
}
