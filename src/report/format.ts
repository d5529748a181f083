// The report's formatting kit: counts, clipping, tables and inline markdown that every renderer
// of the report shares (the job summary and its sections, the pull-request comment, the check
// run, the post step's summary). Escaping of outside text is escape.ts's; this builds on it.
import { escapeTableCell, inlineCode, stripControlCharacters, truncateUtf8, utf8ByteLength } from './escape.js'

/**
 * Evidence is meant to be a few short lines; a gate that puts a log line or a list in it would
 * make its matrix row tower over the others. The matrix shows at most this many lines of this
 * many characters, and the gate's details section then shows the evidence in full.
 */
export const EVIDENCE_CELL_LINES = 6
export const EVIDENCE_CELL_LINE_CHARS = 200

/** UTF-16 units of outside text read for one bounded line: room for escapes the line drops. */
const ONE_LINE_READ = EVIDENCE_CELL_LINE_CHARS * 8

/** At most `maxCharacters` code points of `text`; `…` replaces what is cut. */
export function clipCharacters(text: string, maxCharacters: number): string {
  if (sliceEnd(text, maxCharacters) === text.length) return text
  return `${text.slice(0, sliceEnd(text, maxCharacters - 1)).trimEnd()}…`
}

/** The UTF-16 index after the first `characters` code points of `text`. */
function sliceEnd(text: string, characters: number): number {
  let end = 0
  for (let count = 0; count < characters && end < text.length; count++) {
    end += (text.codePointAt(end) ?? 0) > 0xffff ? 2 : 1
  }
  return end
}

/**
 * Outside text as one line of at most `EVIDENCE_CELL_LINE_CHARS` (for an id, a path, an evidence
 * line), line breaks folded. Only a prefix is read, so a megabyte-long name costs no more than a
 * short one.
 */
export function oneLine(text: string): string {
  const read = text.length > ONE_LINE_READ ? text.slice(0, ONE_LINE_READ) : text
  const line = stripControlCharacters(read)
    .replace(/\s*\n\s*/g, ' ')
    .trim()
  const clipped = clipCharacters(line, EVIDENCE_CELL_LINE_CHARS)
  // What escapes and control characters took from the prefix read can leave it short of the
  // limit: it is still cut, and says so.
  return read !== text && clipped === line ? `${line}…` : clipped
}

/**
 * `9990` → `9,990`, rounded to a whole number first. (Not `toLocaleString`, which
 * util/bounded.ts uses for a few notices: fitting a budget formats counts many thousand times.)
 */
export function formatCount(value: number): string {
  return String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** "1 failing test", "2,000 failing tests". */
export function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${formatCount(count)} ${count === 1 ? singular : plural}`
}

/** The text cut to `maxBytes` of UTF-8 (`…` marks the cut); all of it when undefined. */
export function capText(text: string, maxBytes: number | undefined): string {
  return maxBytes === undefined || utf8ByteLength(text) <= maxBytes ? text : `${truncateUtf8(text, maxBytes)}…`
}

// Code spans: a backtick, then at least one character that is neither a backtick nor a line
// break and not only spaces, then a backtick.
const CODE_SPAN = /(`[^`\n]*[^`\s][^`\n]*`)/

/**
 * Outside text as one line of inline markdown, like `escapeTableCell`, except that `code` spans
 * (which gates use for ids, inputs and module names) stay code: each is shown with `inlineCode`,
 * which keeps it verbatim only when that is safe, and everything around it is escaped.
 */
export function inlineMarkdown(text: string): string {
  const pieces = stripControlCharacters(text).trim().split(CODE_SPAN)
  if (pieces.length === 1) return escapeTableCell(pieces[0] ?? '')
  return pieces.map((piece, index) => (index % 2 === 1 ? inlineCode(piece.slice(1, -1).trim()) : escapeKeepingEdges(piece))).join('')
}

/** `escapeTableCell` without the trim: the space next to a code span is part of the sentence. */
function escapeKeepingEdges(text: string): string {
  const [, leading = '', body = '', trailing = ''] = /^(\s*)([\s\S]*?)(\s*)$/.exec(text) ?? []
  const edge = (space: string): string => (space === '' ? '' : space.includes('\n') ? '<br>' : ' ')
  return `${edge(leading)}${escapeTableCell(body)}${edge(trailing)}`
}

/** The first `max` items as lines, then one line saying how many more there are. */
export function namedAtMost<T>(items: readonly T[], max: number, line: (item: T) => string, more: (count: number) => string): string[] {
  const lines = items.slice(0, max).map(line)
  return items.length > max ? [...lines, more(items.length - max)] : lines
}

/** Cells must already be escaped. */
export function markdownTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return [...tableHeader(headers), ...rows.map(tableRow)].join('\n')
}

/** A table whose rows are rendered only as far as the reader of the lines gets. */
export function* lazyTable<T>(headers: readonly string[], items: Iterable<T>, row: (item: T) => string): Generator<string> {
  yield* tableHeader(headers)
  for (const item of items) yield row(item)
}

export function tableHeader(headers: readonly string[]): string[] {
  return [tableRow(headers), tableRow(headers.map(() => '---'))]
}

export function tableRow(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`
}

/** The value, computed on the first call only. */
export function once<T>(compute: () => T): () => T {
  let result: { value: T } | undefined
  return () => (result ??= { value: compute() }).value
}

/** The value for each key, computed on its first call only. */
export function memoize<K, V>(compute: (key: K) => V): (key: K) => V {
  const cache = new Map<K, { value: V }>()
  return (key) => entryOf(cache, key, () => ({ value: compute(key) })).value
}

/** The map's value for the key, made and added first if there is none. */
export function entryOf<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key)
  if (value === undefined) {
    value = make()
    map.set(key, value)
  }
  return value
}
