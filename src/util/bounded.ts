// Lists and texts that grow with the input (one line per tenant table, one name per task) are
// bounded where they are built, and say what they left out, so a reader learns how much is missing
// and where the rest is. A database with 10,000 tenant tables made single evidence strings of
// 5 MB before: the step's outputs and annotations then broke GitHub's limits.

/** How many items a list in evidence shows before it says "… and N more". */
export const EVIDENCE_LIST_ITEMS = 10

/** `9990` → `9,990`: counts in notices are read by people. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}

export interface MoreOptions {
  /** At most this many items are shown (at least 1). */
  max?: number
  /** What one and several items are: `['table', 'tables']`. */
  noun?: readonly [string, string]
  /** Where the rest is: `see the report`. */
  where?: string
}

/** The notice for what a list left out: `… and 9,990 more tables (see the report)`. */
export function moreNotice(omitted: number, { noun = ['item', 'items'], where }: MoreOptions = {}): string {
  return `… and ${formatCount(omitted)} more ${omitted === 1 ? noun[0] : noun[1]}${where ? ` (${where})` : ''}`
}

/**
 * The first `max` items joined by `separator`, then — when there were more — the notice for the
 * rest: `a, b, c … and 9,990 more tables (see the report)`.
 */
export function listWithMore(items: readonly string[], options: MoreOptions & { separator?: string } = {}): string {
  const max = Math.max(1, options.max ?? EVIDENCE_LIST_ITEMS)
  const separator = options.separator ?? ', '
  if (items.length <= max) return items.join(separator)
  return `${items.slice(0, max).join(separator)} ${moreNotice(items.length - max, options)}`
}

/** The same for lines: the first `max` lines, then one line with the notice. */
export function linesWithMore(lines: readonly string[], options: MoreOptions = {}): string[] {
  const max = Math.max(1, options.max ?? EVIDENCE_LIST_ITEMS)
  if (lines.length <= max) return [...lines]
  return [...lines.slice(0, max), moreNotice(lines.length - max, { noun: ['line', 'lines'], ...options })]
}

/**
 * A text of at most `maxChars` UTF-16 units (what JavaScript and the runner's C# count), cut
 * after a whole line where it can, with a last line saying how much was left out and where it is:
 * `… cut: 9,990 more lines (1,234,567 characters; see the report)`. Never splits a surrogate pair.
 */
export function boundText(text: string, maxChars: number, where?: string): string {
  if (text.length <= maxChars) return text
  // Room for the longest notice this text can get (the counts only shrink).
  const room = Math.max(0, maxChars - cutNotice(text, where).length - 1)
  let cut = text.lastIndexOf('\n', room)
  // Whole lines, unless that would leave most of the room empty (one huge line).
  if (cut < room / 2) cut = room
  if (cut > 0 && isHighSurrogate(text.charCodeAt(cut - 1))) cut -= 1
  const kept = text.slice(0, cut).trimEnd()
  const rest = text.slice(cut).replace(/^\n/, '')
  const notice = cutNotice(rest, where)
  return kept ? `${kept}\n${notice}` : notice.slice(0, maxChars)
}

function cutNotice(rest: string, where?: string): string {
  const lines = countLines(rest)
  return `… cut: ${formatCount(lines)} more line${lines === 1 ? '' : 's'} (${formatCount(rest.length)} characters${where ? `; ${where}` : ''})`
}

function countLines(text: string): number {
  let n = 1
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++
  return n
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}
