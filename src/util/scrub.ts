// Credentials that may appear in outside text the action has no secret for: a traceback's frame
// arguments (`password=…`, `'password': …`), a DSN with its password. Cut wherever such text is
// shown, on top of the masking of every secret the run knows.
const CREDENTIALS = [
  [/\b(password|passwd|pwd|secret|token)(\s*[=:]\s*|'\s*:\s*|"\s*:\s*)('[^']*'|"[^"]*"|[^\s,;)}]+)/gi, '$1$2***'],
  [/(\/\/)[^/\s:@]+:[^@\s]+@/g, '$1***@']
] as const
const MAY_HOLD_CREDENTIALS = /pass|pwd|secret|token|@/i

export function scrubCredentials(text: string): string {
  if (!MAY_HOLD_CREDENTIALS.test(text)) return text
  let safe = text
  for (const [pattern, replacement] of CREDENTIALS) safe = safe.replace(pattern, replacement)
  return safe
}
