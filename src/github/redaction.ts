// What feedback sends and logs is redacted first: the run's secret registry, then the token,
// which no text may carry to GitHub or to the log whatever the registry holds.
import type { RunReport } from '../report/model.js'

export interface FeedbackLog {
  info(message: string): void
  warning(message: string): void
}

/** The caller's redaction, then the token's own masking, which no text may escape. */
export function maskingRedaction({ token, redact }: { token: string; redact?: ((text: string) => string) | undefined }): (text: string) => string {
  return (text) => maskToken(redact === undefined ? text : redact(text), token)
}

function maskToken(text: string, token: string): string {
  return token !== '' && text.includes(token) ? text.split(token).join('***') : text
}

export function maskingLog(log: FeedbackLog, token: string): FeedbackLog {
  return {
    info: (message) => log.info(maskToken(message, token)),
    warning: (message) => log.warning(maskToken(message, token))
  }
}

/** The report with every string redacted, before anything is rendered from it: the limits then hold for what is sent. */
export function redactReport(report: RunReport, redact: (text: string) => string): RunReport {
  return redactStrings(report, redact) as RunReport
}

function redactStrings(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value)
  if (Array.isArray(value)) return value.map((item: unknown) => redactStrings(item, redact))
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactStrings(item, redact)]))
  }
  return value
}
