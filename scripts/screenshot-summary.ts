// The README's picture of a job summary: a golden summary (test/golden) rendered as GitHub renders
// it, photographed in Debian's Chromium from the top (heading and verdict) to the end of the gate
// matrix. Writes docs/summary.png, which is committed; the tests only check it.
//
//   npx tsx scripts/screenshot-summary.ts                        # a failing run: the worker's password is refused
//   npx tsx scripts/screenshot-summary.ts --golden all-pass      # or any test/golden/summary-<name>.md
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { launchChromium, SUMMARY_VIEWPORT } from '../test/page/browser.js'
import { renderSummaryPage } from '../test/page/render-page.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const OUTPUT = path.join(ROOT, 'docs', 'summary.png')
// At the job summary's width the eleven-row matrix of a failing run is about 1,600 px tall; a
// picture taller than this would be cut rather than dwarf the README.
const MAX_HEIGHT_PX = 1800
// Space kept below the matrix: less than the 16 px margin github-markdown-css puts under a table,
// so what follows it is not cut in half.
const BOTTOM_MARGIN_PX = 12

const { values: options } = parseArgs({ options: { golden: { type: 'string', default: 'runtime-wrong-password' } } })

// Without a colour emoji font every status would show as a missing-glyph box.
const fontFamilies = execFileSync('fc-list', [':', 'family'], { encoding: 'utf8' })
if (!fontFamilies.includes('Noto Color Emoji')) {
  throw new Error("no colour emoji font: install Debian's fonts-noto-color-emoji (apt-get install fonts-noto-color-emoji)")
}

const markdown = readFileSync(path.join(ROOT, 'test', 'golden', `summary-${options.golden}.md`), 'utf8')
const browser = await launchChromium()
try {
  const page = await browser.newPage({ viewport: SUMMARY_VIEWPORT, deviceScaleFactor: 1 })
  await page.setContent(renderSummaryPage(markdown, `Celery foundation gates: ${options.golden}`), { waitUntil: 'load' })

  const matrixTable = page.locator('article table').filter({ has: page.locator('thead th', { hasText: /^Status$/ }) })
  const matrix = await matrixTable.first().boundingBox()
  if (matrix === null) throw new Error(`summary-${options.golden}.md shows no table to photograph`)
  const matrixBottom = Math.ceil(matrix.y + matrix.height + BOTTOM_MARGIN_PX)
  if (matrixBottom > MAX_HEIGHT_PX) console.warn(`the matrix ends at ${matrixBottom} px: cut at ${MAX_HEIGHT_PX} px`)
  const height = Math.min(matrixBottom, MAX_HEIGHT_PX)

  mkdirSync(path.dirname(OUTPUT), { recursive: true })
  await page.screenshot({ path: OUTPUT, fullPage: true, clip: { x: 0, y: 0, width: SUMMARY_VIEWPORT.width, height } })
  console.log(`${path.relative(ROOT, OUTPUT)}: summary-${options.golden}.md, ${SUMMARY_VIEWPORT.width}×${height} px, ${statSync(OUTPUT).size} bytes`)
} finally {
  await browser.close()
}
