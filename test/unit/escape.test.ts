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
const HOSTILE_ALPHABET = [
  ...'ab |\\`*_[]()!<>&"\'#~$@:\n\t\r',
  '\u001b[31m',
  '\u0000',
  '\u0007',
  '\u202e',
  'é',
  '€',
  '😀',
  '\ud800'
]

describe('escapeHtml', () => {
  it('escapes the five HTML characters and nothing else', () => {
    expect(escapeHtml(`<script>alert("x" + 'y') && 1</script>`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot; + &#39;y&#39;) &amp;&amp; 1&lt;/script&gt;'
    )
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

  it('escapes HTML and strips control characters', () => {
    expect(escapeTableCell('\u001b[31m<img src=x onerror=alert(1)>\u001b[0m')).toBe(
      '&lt;img src=x onerror=alert(1)&gt;'
    )
  })

  it('never lets random hostile text out of one cell', () => {
    const random = seededRandom(42)
    for (let round = 0; round < 2_000; round++) {
      const cell = escapeTableCell(randomText(random, HOSTILE_ALPHABET, 40))
      expect(cell).not.toMatch(/[\n\r\u0000-\u0008\u000b-\u001f\u007f\u202e]/)
      expect(cell.replace(/<br>/g, '')).not.toMatch(/[<>]/)
      // Every pipe, backtick and bracket is preceded by an odd number of backslashes.
      for (const match of cell.matchAll(/(\\*)[|`[\]*_]/g)) expect((match[1] ?? '').length % 2).toBe(1)
      expect(cell).not.toMatch(/(?<![\w@])@[A-Za-z0-9]/)
    }
  })
})

describe('inlineCode', () => {
  it('uses a backtick span for identifiers', () => {
    expect(inlineCode('rls-role')).toBe('`rls-role`')
    expect(inlineCode('sqla+postgresql://***@127.0.0.1:5432/gatelab')).toBe(
      '`sqla+postgresql://***@127.0.0.1:5432/gatelab`'
    )
  })

  it('falls back to escaped <code> for anything a span would show differently', () => {
    expect(inlineCode('a`b')).toBe('<code>a\\`b</code>')
    expect(inlineCode('x|y')).toBe('<code>x\\|y</code>')
    expect(inlineCode('<b>')).toBe('<code>&lt;b&gt;</code>')
    expect(inlineCode(' padded ')).toBe('<code>padded</code>')
    expect(inlineCode('naïve')).toBe('<code>naïve</code>')
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
    expect(detailsBlock('Run', '| a |', { open: true })).toBe(
      '<details open>\n<summary>Run</summary>\n\n| a |\n\n</details>'
    )
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
