// Whether a `tenant-tables` entry can name a table at all, judged before the database is asked.
// PostgreSQL's to_regclass() raises on a malformed name (`a.b.c.d`: "improper relation name"),
// and one raise in the statement that looks up every entry used to fail both rls-role and
// tenant-isolation with a database error. A malformed entry is instead a finding about that entry;
// a well-formed name that is absent stays a fact about the database (rls-role: does not exist).
//
// The rules are PostgreSQL's own for a dotted name (SplitIdentifierString in varlena.c, which
// to_regclass uses): parts separated by dots, whitespace allowed around them, a part either
// double-quoted (`""` for a quote inside, never empty) or unquoted (any characters up to a dot or
// whitespace; PostgreSQL folds it to lower case). Stricter in one way: at most two parts, table or
// schema.table — PostgreSQL also takes database.schema.table, but only for the current database.

import { quoteGiven } from '../util/quote.js'

/** What the finding says a tenant table entry should look like. */
export const TABLE_NAME_EXPECTED = 'expected table or schema.table, quoted if needed'

/** Why `entry` cannot name a table, or undefined when it can. */
export function tableNameProblem(entry: string): string | undefined {
  const parts: string[] = []
  let i = skipSpace(entry, 0)
  if (i === entry.length) return 'it is empty'
  for (;;) {
    if (entry[i] === '"') {
      let name = ''
      let j = i + 1
      for (;;) {
        const close = entry.indexOf('"', j)
        if (close < 0) return 'it has an unclosed double quote'
        name += entry.slice(j, close)
        if (entry[close + 1] !== '"') {
          j = close + 1
          break
        }
        name += '"'
        j = close + 2
      }
      if (!name) return 'it has an empty quoted name ("")'
      parts.push(name)
      i = j
    } else {
      const start = i
      while (i < entry.length && entry[i] !== '.' && !isSpace(entry[i] as string)) i++
      if (i === start) return 'it has an empty part (two dots, or a dot at an end)'
      parts.push(entry.slice(start, i))
    }
    i = skipSpace(entry, i)
    if (i === entry.length) break
    if (entry[i] !== '.') return `it has ${quoteGiven(entry.slice(i, i + 20))} after a name (a space inside a name needs double quotes)`
    i = skipSpace(entry, i + 1)
    if (i === entry.length) return 'it has an empty part (two dots, or a dot at an end)'
  }
  if (parts.length > 2) return `it has ${parts.length} dotted parts`
  return undefined
}

/** The finding about a malformed entry, as rls-role and tenant-isolation report it. */
export function malformedEntryFinding(entry: string, problem: string): string {
  return `entry ${shown(entry)} is not a table name: ${problem} (${TABLE_NAME_EXPECTED}); skipped`
}

/** An entry as written, in a code span unless it holds a backtick (then as a JSON string). */
function shown(entry: string): string {
  return /[`\u0000-\u001f]/.test(entry) || entry.length > 80 ? quoteGiven(entry) : `\`${entry}\``
}

// PostgreSQL's scanner_isspace: space, tab, newline, carriage return, form feed.
function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f'
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text[i] as string)) i++
  return i
}
