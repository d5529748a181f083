// The job summary as GitHub shows it: GitHub-flavoured markdown rendered with `marked`, raw HTML
// passed through GitHub's kind of allowlist sanitizer, the result wrapped in `.markdown-body`
// with github-markdown-css, at the width of a job summary. Used by the summary-page test and by
// scripts/screenshot-summary.ts; the page loads nothing from the network.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Marked } from 'marked'

// The stylesheet GitHub publishes for rendered markdown, read once: renderSummaryPage itself is
// then a pure function of its arguments.
const GITHUB_MARKDOWN_CSS = readFileSync(createRequire(import.meta.url).resolve('github-markdown-css/github-markdown-light.css'), 'utf8')

// GitHub's job summary box: about 1012 px of content between 32 px of padding (16 px on narrow
// screens, where the box also loses its margin), on the grey of the run page.
const SUMMARY_BOX_CSS = `
body { margin: 0; background: #f6f8fa; }
.markdown-body {
  box-sizing: content-box;
  max-width: 1012px;
  margin: 24px auto;
  padding: 32px;
  border: 1px solid #d1d9e0;
  border-radius: 6px;
}
@media (max-width: 1099px) {
  .markdown-body { margin: 0; padding: 16px; border-width: 0; border-radius: 0; }
}
`

// Nothing may be fetched: inline styles and the data: images github-markdown-css uses are all
// the page needs. Anything else is refused (and Chromium logs the refusal as a console error).
const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

const markdown = new Marked({ gfm: true, breaks: false })

/** A complete HTML page showing `summaryMarkdown` the way GitHub shows a job summary. */
export function renderSummaryPage(summaryMarkdown: string, title: string): string {
  const body = sanitizeLikeGitHub(markdown.parse(summaryMarkdown, { async: false }))
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${GITHUB_MARKDOWN_CSS}</style>
<style>${SUMMARY_BOX_CSS}</style>
</head>
<body>
<article class="markdown-body">
${body}
</article>
</body>
</html>
`
}

// --- A sanitizer in the manner of GitHub's (html-pipeline's SanitizationFilter) --------------
// It runs on marked's output, whose text is already escaped, so every `<` left in it starts a tag,
// a comment or stray raw HTML. Tags outside the allowlist are dropped (their text kept), except
// the elements below whose content is dropped too; attributes outside the allowlist (`style`,
// `class`, `on*` handlers…) are dropped, and so are links to other protocols (`javascript:`).

const ALLOWED_ELEMENTS = new Set(
  (
    'h1 h2 h3 h4 h5 h6 h7 h8 br b i strong em a pre code img tt div ins del sup sub p picture ol ul ' +
    'table thead tbody tfoot blockquote dl dt dd kbd q samp var hr ruby rt rp li tr td th s strike ' +
    'summary details caption figure figcaption abbr bdo cite dfn mark small source span time wbr ' +
    // GitHub adds the checkboxes of task lists after sanitizing; marked emits them itself.
    'input'
  ).split(' ')
)

const CONTENT_DROPPED_ELEMENTS = new Set(
  'script style iframe frame frameset object embed noscript noembed noframes template textarea title xmp svg math select'.split(' ')
)

const ALLOWED_ATTRIBUTES_ANYWHERE = new Set(
  (
    'abbr accept accept-charset accesskey action align alt aria-describedby aria-hidden aria-label ' +
    'aria-labelledby axis border cellpadding cellspacing char charoff charset checked clear cols ' +
    'colspan color compact coords datetime dir disabled enctype for frame headers height hreflang ' +
    'hspace ismap label lang maxlength media method multiple name nohref noshade nowrap open progress ' +
    'prompt readonly rel rev role rows rowspan rules scope selected shape size span start summary ' +
    'tabindex target title type usemap valign value vspace width itemprop'
  ).split(' ')
)

const ALLOWED_ATTRIBUTES_BY_ELEMENT: Record<string, ReadonlySet<string>> = {
  a: new Set(['href']),
  img: new Set(['src', 'longdesc']),
  div: new Set(['itemscope', 'itemtype']),
  blockquote: new Set(['cite']),
  del: new Set(['cite']),
  ins: new Set(['cite']),
  q: new Set(['cite'])
}

// URL attributes and the protocols they may use; a relative URL (no scheme) is always allowed.
const ALLOWED_PROTOCOLS: Record<string, ReadonlySet<string>> = {
  href: new Set(['http', 'https', 'mailto']),
  src: new Set(['http', 'https']),
  longdesc: new Set(['http', 'https']),
  cite: new Set(['http', 'https'])
}

const COMMENT_OR_DECLARATION = /<!--[\s\S]*?(?:-->|$)|<![^>]*>?|<\?[^>]*>?/y
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/y
const ATTRIBUTE = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g

export function sanitizeLikeGitHub(html: string): string {
  let out = ''
  let position = 0
  while (position < html.length) {
    const next = html.indexOf('<', position)
    if (next === -1) {
      out += html.slice(position)
      break
    }
    out += html.slice(position, next)
    COMMENT_OR_DECLARATION.lastIndex = next
    if (COMMENT_OR_DECLARATION.exec(html)) {
      position = COMMENT_OR_DECLARATION.lastIndex
      continue
    }
    TAG.lastIndex = next
    const tag = TAG.exec(html)
    if (tag === null) {
      out += '&lt;'
      position = next + 1
      continue
    }
    position = TAG.lastIndex
    const [, closingSlash = '', rawName = '', rawAttributes = ''] = tag
    const name = rawName.toLowerCase()
    if (CONTENT_DROPPED_ELEMENTS.has(name)) {
      if (closingSlash === '') position = endOfElement(html, name, position)
      continue
    }
    if (!ALLOWED_ELEMENTS.has(name)) continue
    out += closingSlash === '' ? `<${name}${allowedAttributes(name, rawAttributes)}>` : `</${name}>`
  }
  return out
}

/** Where the content of a content-dropped element ends: after its closing tag, or at the end. */
function endOfElement(html: string, name: string, from: number): number {
  const closing = new RegExp(`</${name}\\s*>`, 'ig')
  closing.lastIndex = from
  return closing.exec(html) === null ? html.length : closing.lastIndex
}

function allowedAttributes(element: string, rawAttributes: string): string {
  let kept = ''
  for (const [, rawName = '', ...values] of rawAttributes.matchAll(ATTRIBUTE)) {
    const name = rawName.toLowerCase()
    if (!ALLOWED_ATTRIBUTES_ANYWHERE.has(name) && !ALLOWED_ATTRIBUTES_BY_ELEMENT[element]?.has(name)) continue
    const value = values.find((v) => v !== undefined) ?? ''
    const protocols = ALLOWED_PROTOCOLS[name]
    if (protocols !== undefined && !isAllowedUrl(value, protocols)) continue
    kept += ` ${name}="${value.replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}"`
  }
  return kept
}

function isAllowedUrl(rawValue: string, protocols: ReadonlySet<string>): boolean {
  // Browsers decode entities and ignore whitespace and control characters inside a scheme, so
  // `jav&#x61;script:` and `java\tscript:` are `javascript:` and must be judged as such.
  const url = decodeCharacterReferences(rawValue)
    .replace(/[\u0000-\u0020\u007f]+/g, '')
    .toLowerCase()
  const scheme = /^([a-z][a-z0-9+.-]*):/.exec(url)?.[1]
  return scheme === undefined || protocols.has(scheme)
}

const NAMED_REFERENCES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", colon: ':', tab: '\t', newline: '\n' }

function decodeCharacterReferences(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);?/gi, (whole, reference: string) => {
    if (reference.startsWith('#')) {
      const codePoint = reference[1] === 'x' || reference[1] === 'X' ? parseInt(reference.slice(2), 16) : parseInt(reference.slice(1), 10)
      return codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : whole
    }
    return NAMED_REFERENCES[reference.toLowerCase()] ?? whole
  })
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
