// Escaping for outside text (worker logs, exception messages, test names, redacted DSNs) that the
// summary places in GitHub-flavoured markdown. The toolkit's `core.summary` escapes nothing, so
// every renderer passes outside text through one of these before it reaches the summary.

// CSI (colours, cursor moves), OSC (titles, hyperlinks), the other ESC sequences (charset
// switches, cursor saves) and the single-byte 8-bit CSI. Colours mean nothing in markdown, and
// the bytes would otherwise survive as invisible junk.
const ANSI_ESCAPE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b\n]*(?:\u0007|\u001b\\)|\u001b[ -/]*[0-~]|\u009b[0-?]*[ -/]*[@-~]/g

// C0 and C1 controls except tab and newline. A lone carriage return (a progress bar redrawing
// its line) is dropped rather than made a line break, which would multiply the lines.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g

// Bidirectional overrides can make a log line read differently from what it says ("Trojan
// Source"); a report that proves something must show the characters in their real order.
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g

// A lone surrogate is not text: encoders write it as U+FFFD, so say so up front.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

// Characters that start code spans, emphasis, strikethrough, links/images, math or a table cell.
// HTML is escaped first, so `<` is an entity by then; `&`, `#` and `;`, which entities are made
// of, must stay out of this set.
const MARKDOWN_ACTIVE = /[\\`*_[\]|~$]/g

// GitHub links `@name` and `@org/team` after rendering, so a backslash does not stop it (and a
// mention notifies people). A zero-width space after the `@` does; `user@host` is no mention.
const MENTION = /(?<![\w@])@(?=[A-Za-z0-9])/g

// GitHub also turns references into links after rendering, and each names an issue, a pull
// request or a commit — `#123`, `GH-123`, `owner/repo#123`, an issue's URL — and leaves a
// "mentioned this" entry in that issue's timeline, in any repository. Outside text must not
// reach into other people's issues through our comment, so a zero-width space goes after the
// `#` (an entity `&#…;` is ours: its `#` follows `&`), after `GH-`, and inside an issue URL's
// scheme. Text inside <pre> and <code> is never linked, so only inline text needs this.
const ISSUE_REFERENCE = /(?<!&)#(?=\d)/g
const GH_REFERENCE = /\b(gh)-(?=\d)/gi
const ISSUE_URL = /(https?:|www)(?=(?:\/\/|\.)[^\s<>]*?\/(?:issues|pull|pulls|discussions)\/\d)/gi
// A run of 7 or more hex digits may be a commit's abbreviated name, and GitHub links it when it
// is one. In a code element it is not linked, and still reads (and copies) the same, so the
// word that holds it (a task id, a node name, a hash) is shown as code, without the punctuation
// that ends a sentence. Plain numbers (no letter) are counts and ports, and are left alone.
const COMMIT_NAME = /\b(?=[0-9]*[a-f])[0-9a-f]{7,}\b/i
const WORD = /[^\s<>()]+/g
const WORD_END = /^(.*?)((?:[.,;:!?]|&#39;|&quot;)*)$/s

// Whether any of the above can match: most text has none of these, and renderers escape a lot
// of small strings while fitting the budget, so the common case is one scan instead of five.
const NEEDS_CLEANING = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/
const NEEDS_INLINE_ESCAPING = /[&<>"'\\`*_[\]|~$@\n]/
const MAY_AUTOLINK = /#\d|gh-\d|[0-9a-f]{7}|:\/\/|www\./i

// Text that can go into a backtick code span verbatim is printable ASCII with no space at either
// end (a span strips it) and none of: a backtick (it ends the span), a pipe (it ends a table
// cell even inside a span), `<`, `>` or `&` (literal in a span, but nothing that reads the raw
// markdown should meet a tag). Ids, task names, node names and redacted DSNs qualify.
const PRINTABLE_ASCII_TRIMMED = /^[!-~](?:[ -~]*[!-~])?$/
const CODE_SPAN_UNSAFE = /[`|<>&]/

/** Removes ANSI escapes and control characters (keeping newline and tab); normalises CRLF. */
export function stripControlCharacters(text: string): string {
  if (!NEEDS_CLEANING.test(text)) return text
  return text.replace(ANSI_ESCAPE, '').replace(/\r\n/g, '\n').replace(CONTROL_CHARACTERS, '').replace(BIDI_CONTROLS, '').replace(LONE_SURROGATE, '\ufffd')
}

/** Escapes the five characters that HTML gives meaning to. */
export function escapeHtml(text: string): string {
  // Chained native replaces beat one replace with a callback on logs dense with `<` and quotes.
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

/**
 * Outside text as one line of inline markdown: safe in a table cell or a sentence. It can neither
 * end the cell or row, nor open a link, image, emphasis, code span or HTML tag, nor mention
 * anyone, nor reference an issue or a commit. Newlines become `<br>`; surrounding whitespace is
 * dropped.
 */
export function escapeTableCell(text: string): string {
  const escaped = escapeInline(text)
  return MAY_AUTOLINK.test(escaped) ? escaped.replace(WORD, codeIfCommitName) : escaped
}

function codeIfCommitName(word: string): string {
  if (!COMMIT_NAME.test(word)) return word
  const [, body = word, end = ''] = WORD_END.exec(word) ?? []
  return `<code>${body}</code>${end}`
}

/** `escapeTableCell` for text that a code element will hold, where commit names are not linked. */
function escapeInline(text: string): string {
  const clean = stripControlCharacters(text).trim()
  if (!NEEDS_INLINE_ESCAPING.test(clean) && !MAY_AUTOLINK.test(clean)) return clean
  return neutraliseReferences(escapeHtml(clean).replace(MARKDOWN_ACTIVE, '\\$&')).replace(/[ \t]*\n[ \t]*/g, '<br>')
}

/** Mentions and issue references made inert (see MENTION, ISSUE_REFERENCE): escaped HTML in, out. */
function neutraliseReferences(html: string): string {
  return html.replace(MENTION, '@&#8203;').replace(ISSUE_REFERENCE, '#&#8203;').replace(GH_REFERENCE, '$1-&#8203;').replace(ISSUE_URL, '$1&#8203;')
}

/**
 * Outside text for one line of raw HTML, such as a `<summary>`: markdown is not parsed there, so
 * only HTML is escaped, and line breaks are folded because a blank line would end the HTML block.
 */
export function escapeHtmlLine(text: string): string {
  // It may be the text of a <summary>, which GitHub scans for mentions and references too.
  return neutraliseReferences(
    escapeHtml(
      stripControlCharacters(text)
        .replace(/\s*\n\s*/g, ' ')
        .trim()
    )
  )
}

/** Outside text shown as code: a backtick span when that is safe verbatim, else escaped `<code>`. */
export function inlineCode(text: string): string {
  const verbatim = PRINTABLE_ASCII_TRIMMED.test(text) && !CODE_SPAN_UNSAFE.test(text)
  return verbatim ? `\`${text}\`` : `<code>${escapeInline(text)}</code>`
}

/**
 * Multi-line outside text (a log, a traceback) as a `<pre>` HTML block. Markdown is not parsed
 * inside it and the block only ends at a literal `</pre>`, which escaping makes impossible, so no
 * input can break out the way a backtick fence can be closed by a line of backticks.
 */
export function preBlock(text: string): string {
  const body = escapeHtml(stripControlCharacters(text)).replace(/\n+$/, '')
  return `<pre>\n${body}\n</pre>`
}

/**
 * A collapsible section. `summaryHtml` is trusted HTML (escape outside parts first); `body` is
 * trusted markdown or HTML. The blank lines let GitHub parse the body as markdown.
 */
export function detailsBlock(summaryHtml: string, body: string, options: { open?: boolean } = {}): string {
  const openTag = options.open === true ? '<details open>' : '<details>'
  return `${openTag}\n<summary>${summaryHtml}</summary>\n\n${body}\n\n</details>`
}

/** Size of the text once written as UTF-8, which is what GitHub's summary limit counts. */
export function utf8ByteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

function utf8Width(codePoint: number): number {
  if (codePoint < 0x80) return 1
  if (codePoint < 0x800) return 2
  // A lone surrogate is written as U+FFFD, also three bytes.
  if (codePoint < 0x10000) return 3
  return 4
}

/**
 * The longest prefix of `text` that fits in `maxBytes` of UTF-8. It cuts between code points
 * only, so it never splits a multi-byte character or a surrogate pair.
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8ByteLength(text) <= maxBytes) return text
  let usedBytes = 0
  let end = 0
  while (end < text.length) {
    const codePoint = text.codePointAt(end) ?? 0
    const width = utf8Width(codePoint)
    if (usedBytes + width > maxBytes) break
    usedBytes += width
    end += codePoint > 0xffff ? 2 : 1
  }
  return text.slice(0, end)
}
