// The job summary as a page: every golden summary (test/golden) rendered as GitHub renders it
// (test/page/render-page.ts) and opened in Debian's Chromium, where the gate matrix, the folds
// and the widths are checked from the DOM (test/page/page-checks.ts). The checks are themselves
// tested on broken summaries and broken styles, so a check that cannot fail is noticed.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../page/browser.js'
import { findSummaryPageProblems, STATUS_LABELS, type GateStatus, type SummaryExpectation } from '../page/page-checks.js'
import { renderSummaryPage } from '../page/render-page.js'

const GOLDEN_DIR = new URL('../golden/', import.meta.url)
const REPORTS_DIR = new URL('../fixtures/reports/', import.meta.url)
const SCREENSHOT = new URL('../../docs/summary.png', import.meta.url)

// summary-<name>.md is the summary of the report <name>.json.
const GOLDEN_NAMES = readdirSync(GOLDEN_DIR)
  .filter((file) => /^summary-.+\.md$/.test(file))
  .map((file) => file.slice('summary-'.length, -'.md'.length))
  .sort()

function goldenSummary(name: string): string {
  return readFileSync(new URL(`summary-${name}.md`, GOLDEN_DIR), 'utf8')
}

function summaryPage(name: string, markdown = goldenSummary(name)): string {
  return renderSummaryPage(markdown, `Celery foundation gates: ${name}`)
}

/** The gates and statuses the page must show, from the JSON report the golden was rendered from. */
function expectationFromReport(name: string): SummaryExpectation {
  const reportFile = new URL(`${name}.json`, REPORTS_DIR)
  if (!existsSync(reportFile)) throw new Error(`golden summary-${name}.md has no report fixture ${reportFile.pathname}`)
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { gates?: Array<{ id?: unknown; status?: unknown }> }
  const gates = (report.gates ?? []).map(({ id, status }) => {
    if (typeof id !== 'string' || typeof status !== 'string' || !(status in STATUS_LABELS)) {
      throw new Error(`${name}.json: a gate without an id or a known status: ${JSON.stringify({ id, status })}`)
    }
    return { id, status: status as GateStatus }
  })
  if (gates.length === 0) throw new Error(`${name}.json: no gates`)
  return { gates }
}

/** A page whose stylesheet has lost something: `css` is added after GitHub's. */
function withExtraCss(html: string, css: string): string {
  return html.replace('</head>', `<style>${css}</style>\n</head>`)
}

/** `markdown` with `search` replaced once, failing loudly when the golden no longer has it. */
function replaceOnce(markdown: string, search: string | RegExp, replacement: string): string {
  const changed = markdown.replace(search, replacement)
  if (changed === markdown) throw new Error(`the golden no longer contains ${String(search)}`)
  return changed
}

// One browser for the file. A launch failure (no /usr/bin/chromium) is rethrown by every test
// that needs the browser, so they fail saying what to install rather than show as skipped.
let launched: Browser | undefined
let launchFailure: unknown

beforeAll(async () => {
  try {
    launched = await launchChromium()
  } catch (error) {
    launchFailure = error
  }
})

afterAll(async () => {
  await launched?.close()
})

function chromium(): Browser {
  if (launched === undefined) throw launchFailure
  return launched
}

describe('golden summaries as pages', () => {
  it('finds the goldens and their reports', () => {
    expect(GOLDEN_NAMES.length).toBeGreaterThanOrEqual(10)
    for (const name of GOLDEN_NAMES) expect(() => expectationFromReport(name)).not.toThrow()
  })

  for (const name of GOLDEN_NAMES) {
    it(`summary-${name}.md: matrix, one-line statuses, folds, no overflow, no errors or requests`, async () => {
      const problems = await findSummaryPageProblems(chromium(), summaryPage(name), expectationFromReport(name))
      expect(problems, `summary-${name}.md`).toEqual([])
    })
  }
})

describe('the checks catch a broken page', () => {
  const name = 'runtime-wrong-password'
  const expected = (): SummaryExpectation => expectationFromReport(name)

  async function problemsOf(html: string, expectation = expected()): Promise<string> {
    return (await findSummaryPageProblems(chromium(), html, expectation)).join('\n')
  }

  it('a matrix that lost its table syntax', async () => {
    const markdown = replaceOnce(goldenSummary(name), '| --- | --- | --- | --- |\n', '')
    expect(await problemsOf(summaryPage(name, markdown))).toMatch(/expected one <table> with headers Gate \| Description \| Status \| Evidence, found 0/)
  })

  it('a matrix that lost a row', async () => {
    const markdown = replaceOnce(goldenSummary(name), /^\| \*\*Queues\*\* .*\n/m, '')
    expect(await problemsOf(summaryPage(name, markdown))).toMatch(/gate matrix has 10 rows, expected 11/)
  })

  it('a status that is not the report’s, or not a label', async () => {
    // The matrix joins emoji and label with a no-break space (statusCell).
    const wrongStatus = replaceOnce(goldenSummary(name), '| ✅\u00a0PASS |', '| ❌\u00a0FAIL |')
    expect(await problemsOf(summaryPage(name, wrongStatus))).toMatch(/row 1 \(import\): status "❌ FAIL.*the report says pass/)
    const noLabel = replaceOnce(goldenSummary(name), '| ✅\u00a0PASS |', '| passed |')
    expect(await problemsOf(summaryPage(name, noLabel))).toMatch(/row 1 \(import\): status "passed" starts with none of/)
  })

  it('a status that wraps or does not show', async () => {
    const squeezed = withExtraCss(summaryPage(name), '.markdown-body table td:nth-child(3) { width: 1px; word-break: break-all; }')
    expect(await problemsOf(squeezed)).toMatch(/row 1 \(import\): status "✅ PASS" wraps/)
    const hidden = withExtraCss(summaryPage(name), '.markdown-body table td:nth-child(3) { visibility: hidden; }')
    expect(await problemsOf(hidden)).toMatch(/row 1 \(import\): status "✅ PASS" is not visible/)
  })

  it('a fold open by default, or a failed gate’s details folded', async () => {
    const timingsOpen = replaceOnce(goldenSummary(name), '<details>\n<summary>Timings', '<details open>\n<summary>Timings')
    expect(await problemsOf(summaryPage(name, timingsOpen))).toMatch(/<details> "Timings .*" is open by default/)
    const failureFolded = replaceOnce(goldenSummary(name), '<details open>', '<details>')
    expect(await problemsOf(summaryPage(name, failureFolded))).toMatch(/"❌ FAIL Runtime \(runtime\): details" is closed, but a failed gate/)
  })

  it('a fold that does not hide its content, or does not show it when opened', async () => {
    const leaky = withExtraCss(summaryPage(name), 'details::details-content { content-visibility: visible; display: block; }')
    expect(await problemsOf(leaky)).toMatch(/"Timings .*" is closed but its content shows/)
    const empty = withExtraCss(summaryPage(name), 'details > :not(summary) { display: none !important; }')
    expect(await problemsOf(empty)).toMatch(/"Timings .*": opened, its content still does not show/)
  })

  it('a <pre> that does not scroll', async () => {
    const unscrolled = withExtraCss(summaryPage(name), '.markdown-body pre { overflow: visible; }')
    const problems = await problemsOf(unscrolled)
    expect(problems).toMatch(/<pre> #\d+ in "❌ FAIL Runtime \(runtime\): details".* and does not scroll \(overflow-x: visible\)/)
    expect(problems).toMatch(/the article overflows|reaches past the article/)
  })

  it('an image from the network', async () => {
    const markdown = `${goldenSummary(name)}\n![logo](https://example.com/logo.png)\n`
    expect(await problemsOf(summaryPage(name, markdown))).toMatch(/console error: .*example\.com\/logo\.png|network request: https:\/\/example\.com/)
  })
})

describe('renderSummaryPage', () => {
  const article = (html: string): string => html.slice(html.indexOf('<article'))

  it('removes scripts, inline styles and event handlers, as GitHub does', () => {
    const html = article(
      renderSummaryPage(
        [
          '<script>alert(1)</script>',
          '<p style="color:red" onclick="alert(2)">styled</p>',
          '<img src="x.png" onerror="alert(3)">',
          '[link](javascript:alert(4)) <a href="jav&#x61;script:alert(5)">entity</a>',
          '<details open><summary>kept</summary><pre><code>kept too</code></pre></details>'
        ].join('\n\n'),
        'unsafe'
      )
    )
    expect(html).not.toMatch(/<script|alert\(1\)|style=|onclick|onerror|javascript:|jav&#x61;script/i)
    expect(html).toContain('<details open="">')
    expect(html).toContain('<summary>kept</summary><pre><code>kept too</code></pre>')
  })

  it('inlines GitHub’s stylesheet and sets a width like the job summary’s', () => {
    const html = renderSummaryPage('# Title', 'a <title>')
    expect(html).toContain('<title>a &lt;title&gt;</title>')
    expect(html).toMatch(/\.markdown-body table \{[^}]*display: block;[^}]*overflow: auto;/)
    expect(html).toContain('max-width: 1012px')
    expect(html).toContain('<article class="markdown-body">\n<h1>Title</h1>')
  })
})

describe('docs/summary.png', () => {
  // Made by scripts/screenshot-summary.ts and committed; the test only checks it is sound.
  it('is a PNG of a plausible size', () => {
    expect(existsSync(SCREENSHOT), 'docs/summary.png is missing: run npx tsx scripts/screenshot-summary.ts').toBe(true)
    const png = readFileSync(SCREENSHOT)
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'PNG signature').toBe(true)
    expect(png.toString('latin1', 12, 16), 'first chunk').toBe('IHDR')
    const width = png.readUInt32BE(16)
    const height = png.readUInt32BE(20)
    expect(width).toBeGreaterThanOrEqual(1000)
    expect(width).toBeLessThanOrEqual(2600)
    expect(height).toBeGreaterThanOrEqual(400)
    expect(height).toBeLessThanOrEqual(2800)
    expect(statSync(SCREENSHOT).size).toBeLessThanOrEqual(400 * 1024)
  })
})
