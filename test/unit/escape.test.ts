import { describe, expect, it } from 'vitest'
import {
  detailsBlock,
  escapeHtml,
  escapeHtmlLine,
  escapeTableCell,
  inlineCode,
  preBlock,
  stripControlCharacters,
  truncateUtf8,
  utf8ByteLength
} from '../../src/report/escape.js'

/** A deterministic generator, so a failing random case can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    return state / 2 ** 31
  }
}

function randomText(random: () => number, alphabet: readonly string[], length: number): string {
  return Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)] ?? '').join('')
}

// Everything that has a meaning somewhere in markdown, HTML or a terminal, and text of every
// UTF-8 width, including an astral character and a lone surrogate.
const HOSTILE_ALPHABET = [...'ab |\\`*_[]()!<>&"\'#~$@:\n\t\r', '\u001b[31m', '\u0000', '\u0007', '\u202e', 'é', '€', '😀', '\ud800']

describe('escapeHtml', () => {
  it('escapes the five HTML characters and nothing else', () => {
    expect(escapeHtml(`<script>alert("x" + 'y') && 1</script>`)).toBe('&lt;script&gt;alert(&quot;x&quot; + &#39;y&#39;) &amp;&amp; 1&lt;/script&gt;')
    expect(escapeHtml('plain *markdown* | stays')).toBe('plain *markdown* | stays')
  })

  it('escapes an existing entity again, so it shows as typed', () => {
    expect(escapeHtml('&amp;')).toBe('&amp;amp;')
  })
})

describe('escapeHtmlLine', () => {
  it('folds line breaks so a blank line cannot end the HTML block, and leaves markdown alone', () => {
    expect(escapeHtmlLine('Import\n\n<b>bold</b>_x_ \u001b[1m')).toBe('Import &lt;b&gt;bold&lt;/b&gt;_x_')
  })

  it('breaks mentions and issue references, which GitHub links in a <summary> too', () => {
    expect(escapeHtmlLine("@octocat's fix for #12 and GH-3")).toBe('@&#8203;octocat&#39;s fix for #&#8203;12 and GH-&#8203;3')
  })
})

describe('stripControlCharacters', () => {
  it('removes ANSI colours, OSC hyperlinks and cursor moves', () => {
    expect(stripControlCharacters('\u001b[1;31mERROR\u001b[0m done')).toBe('ERROR done')
    expect(stripControlCharacters('\u001b]8;;https://x.example\u0007link\u001b]8;;\u0007')).toBe('link')
    expect(stripControlCharacters('a\u001b[2Kb\u001b7c\u009b1md')).toBe('abcd')
  })

  it('keeps newline and tab, normalises CRLF and drops other controls', () => {
    expect(stripControlCharacters('a\r\nb\tc\rd\u0000e\u0007f\u007fg\u0085h')).toBe('a\nb\tcdefgh')
  })

  it('drops bidirectional overrides and marks a lone surrogate', () => {
    expect(stripControlCharacters('abc\u202edef\u2066')).toBe('abcdef')
    expect(stripControlCharacters('x\ud800y')).toBe('x\ufffdy')
    expect(stripControlCharacters('ok 😀 é')).toBe('ok 😀 é')
  })
})

describe('escapeTableCell', () => {
  it('escapes a pipe so it cannot end the cell', () => {
    expect(escapeTableCell('a|b')).toBe('a\\|b')
  })

  it('escapes backslashes first, so an escaped pipe in the input stays escaped', () => {
    expect(escapeTableCell('C:\\temp')).toBe('C:\\\\temp')
    expect(escapeTableCell('\\|')).toBe('\\\\\\|')
  })

  it('turns newlines into <br> and trims around them', () => {
    expect(escapeTableCell('first\n  second  \nthird\n')).toBe('first<br>second<br>third')
  })

  it('neutralises links, images, emphasis, code spans, strikethrough and math', () => {
    expect(escapeTableCell('[x](https://e.example) ![i](y) *b* _i_ `c` ~~s~~ $m$')).toBe(
      '\\[x\\](https://e.example) !\\[i\\](y) \\*b\\* \\_i\\_ \\`c\\` \\~\\~s\\~\\~ \\$m\\$'
    )
  })

  it('breaks mentions but leaves addresses alone', () => {
    expect(escapeTableCell('@octocat and @org/team')).toBe('@&#8203;octocat and @&#8203;org/team')
    expect(escapeTableCell('celery@host ready.')).toBe('celery@host ready.')
  })

  it('breaks issue and pull-request references, so outside text names no issue', () => {
    expect(escapeTableCell('fixed in #123, see acme/shop#7 and GH-42')).toBe('fixed in #&#8203;123, see acme/shop#&#8203;7 and GH-&#8203;42')
    expect(escapeTableCell('gh-9 and Gh-10')).toBe('gh-&#8203;9 and Gh-&#8203;10')
    // A `#` not followed by a digit is no reference; an entity's `#` is ours and stays whole.
    expect(escapeTableCell("#main and it's &#35;1")).toBe('#main and it&#39;s &amp;#&#8203;35;1')
  })

  it("breaks an issue's or pull request's URL, which GitHub also turns into a reference", () => {
    expect(escapeTableCell('see https://github.com/acme/shop/issues/12 or www.github.com/acme/shop/pull/3')).toBe(
      'see https:&#8203;//github.com/acme/shop/issues/12 or www&#8203;.github.com/acme/shop/pull/3'
    )
    // Other links stay links: documentation quoted by an exception is useful to click.
    expect(escapeTableCell('Background on this error at: https://sqlalche.me/e/21/e3q8')).toBe('Background on this error at: https://sqlalche.me/e/21/e3q8')
  })

  it('shows a word holding a commit-like hex run as code, where GitHub links no commit', () => {
    const sha = '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c'
    expect(escapeTableCell(`ran on ${sha}.`)).toBe(`ran on <code>${sha}</code>.`)
    expect(escapeTableCell('task id e877db16-e741-4b76-a5ca-668eb2a7edef (kept)')).toBe('task id <code>e877db16-e741-4b76-a5ca-668eb2a7edef</code> (kept)')
    expect(escapeTableCell('octocat@abc1234, acme/shop@deadbeef')).toBe('<code>octocat@abc1234</code>, <code>acme/shop@deadbeef</code>')
    // Numbers, and hex runs shorter than GitHub's 7, stay plain.
    expect(escapeTableCell('1234567 rows in 0xff0 ms, commit abc123')).toBe('1234567 rows in 0xff0 ms, commit abc123')
  })

  it('escapes HTML and strips control characters', () => {
    expect(escapeTableCell('\u001b[31m<img src=x onerror=alert(1)>\u001b[0m')).toBe('&lt;img src=x onerror=alert(1)&gt;')
  })

  it('never lets random hostile text out of one cell', () => {
    const random = seededRandom(42)
    for (let round = 0; round < 2_000; round++) {
      const cell = escapeTableCell(randomText(random, HOSTILE_ALPHABET, 40))
      expect(cell).not.toMatch(/[\n\r\u0000-\u0008\u000b-\u001f\u007f\u202e]/)
      expect(cell.replace(/<br>|<\/?code>/g, '')).not.toMatch(/[<>]/)
      // Every pipe, backtick and bracket is preceded by an odd number of backslashes.
      for (const match of cell.matchAll(/(\\*)[|`[\]*_]/g)) expect((match[1] ?? '').length % 2).toBe(1)
      expect(cell).not.toMatch(/(?<![\w@])@[A-Za-z0-9]/)
    }
  })

  it('leaves no reference GitHub would link in random text', () => {
    const random = seededRandom(7)
    const alphabet = [...'#/-@ .:0123456789abcdefGHgh', 'acme/shop', 'https://', 'www.', '/issues/', '/pull/', '&#39;', '\n']
    for (let round = 0; round < 3_000; round++) {
      const cell = escapeTableCell(randomText(random, alphabet, 30))
      const outsideCode = cell.replace(/<code>.*?<\/code>/g, ' ')
      expect(outsideCode).not.toMatch(/(?<!&)#\d/)
      expect(outsideCode).not.toMatch(/\bgh-\d/i)
      expect(outsideCode).not.toMatch(/\b(?=[0-9]*[a-f])[0-9a-f]{7,}\b/i)
      expect(outsideCode).not.toMatch(/(?<![\w@])@[A-Za-z0-9]/)
      // A URL ends at a space or a tag (<br>).
      expect(outsideCode).not.toMatch(/(?:https?:\/\/|www\.)[^\s<]*\/(?:issues|pull)\/\d/)
    }
  })
})

describe('inlineCode', () => {
  it('uses a backtick span for identifiers', () => {
    expect(inlineCode('rls-role')).toBe('`rls-role`')
    expect(inlineCode('sqla+postgresql://***@127.0.0.1:5432/gatelab')).toBe('`sqla+postgresql://***@127.0.0.1:5432/gatelab`')
  })

  it('falls back to escaped <code> for anything a span would show differently', () => {
    expect(inlineCode('a`b')).toBe('<code>a\\`b</code>')
    expect(inlineCode('x|y')).toBe('<code>x\\|y</code>')
    expect(inlineCode('<b>')).toBe('<code>&lt;b&gt;</code>')
    expect(inlineCode(' padded ')).toBe('<code>padded</code>')
    expect(inlineCode('naïve')).toBe('<code>naïve</code>')
  })

  it('does not nest code for a hex run, and still breaks mentions and references', () => {
    // A backtick span links nothing; the <code> fallback is HTML, where only mentions and issue references could.
    expect(inlineCode('node cfg-7d1c0e9a@host #1')).toBe('`node cfg-7d1c0e9a@host #1`')
    expect(inlineCode('node cfg-7d1c0e9a@host | #1')).toBe('<code>node cfg-7d1c0e9a@host \\| #&#8203;1</code>')
  })
})

describe('preBlock', () => {
  it('keeps lines and markdown characters, escaping only HTML', () => {
    expect(preBlock('  File "<module>", line 1\n**kwargs __init__ | `x`\n')).toBe(
      '<pre>\n  File &quot;&lt;module&gt;&quot;, line 1\n**kwargs __init__ | `x`\n</pre>'
    )
  })

  it('cannot be closed by its content', () => {
    const block = preBlock('</pre>\n</details>\n<script>x</script>\n```\n\u001b[31mred')
    expect(block.match(/<\/?pre>/g)).toEqual(['<pre>', '</pre>'])
    expect(block.endsWith('\nred\n</pre>')).toBe(true)
    expect(block).not.toContain('<script')
  })
})

describe('detailsBlock', () => {
  it('leaves blank lines around the body so GitHub renders it as markdown', () => {
    expect(detailsBlock('Run', '| a |', { open: true })).toBe('<details open>\n<summary>Run</summary>\n\n| a |\n\n</details>')
    expect(detailsBlock('Run', 'x').startsWith('<details>\n')).toBe(true)
  })
})

describe('truncateUtf8', () => {
  it('returns text that fits unchanged', () => {
    expect(truncateUtf8('hello', 5)).toBe('hello')
    expect(truncateUtf8('', 0)).toBe('')
  })

  it('cuts between characters of every UTF-8 width', () => {
    expect(truncateUtf8('aé', 2)).toBe('a')
    expect(truncateUtf8('a€', 3)).toBe('a')
    expect(truncateUtf8('a€', 4)).toBe('a€')
    expect(truncateUtf8('a😀b', 4)).toBe('a')
    expect(truncateUtf8('a😀b', 5)).toBe('a😀')
    expect(truncateUtf8('日本語', 7)).toBe('日本')
  })

  it('returns nothing for a budget of zero or less', () => {
    expect(truncateUtf8('abc', 0)).toBe('')
    expect(truncateUtf8('abc', -5)).toBe('')
  })

  it('always returns the longest prefix that fits, never half a surrogate pair', () => {
    const random = seededRandom(7)
    for (let round = 0; round < 300; round++) {
      const text = randomText(random, ['a', 'é', '€', '😀', '\ud800', '\n'], 12)
      const bytes = utf8ByteLength(text)
      for (let maxBytes = 0; maxBytes <= bytes; maxBytes++) {
        const cut = truncateUtf8(text, maxBytes)
        expect(text.startsWith(cut)).toBe(true)
        expect(utf8ByteLength(cut)).toBeLessThanOrEqual(maxBytes)
        expect(cut.endsWith('\ud83d')).toBe(false)
        const nextCodePoint = text.codePointAt(cut.length)
        if (nextCodePoint !== undefined) {
          expect(utf8ByteLength(cut + String.fromCodePoint(nextCodePoint))).toBeGreaterThan(maxBytes)
        }
      }
    }
  })
})
