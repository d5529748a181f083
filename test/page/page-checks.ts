// What a reader of the job summary must be able to rely on, checked in a real browser: the gate
// matrix is a table with a row and a one-line status per gate, long evidence is folded away,
// nothing sticks out sideways, and the page neither errs nor fetches anything.
//
// The browser only measures (the `measure…` functions run inside the page and return plain data);
// the judging happens here in Node, so every rule reads as ordinary code and names what broke.
// Playwright sends the `measure…` functions to the page as source text, so they are
// self-contained: no module constants and no named inner functions (tsx's keepNames would wrap
// those in a `__name()` call that does not exist in the page).
import type { Browser } from 'playwright-core'
import { SUMMARY_VIEWPORT } from './browser.js'

export type GateStatus = 'pass' | 'fail' | 'warn' | 'skip'

/** How each status reads in the summary (independent of src/, so a changed label is noticed). */
export const STATUS_LABELS: Record<GateStatus, string> = {
  pass: '✅ PASS',
  fail: '❌ FAIL',
  warn: '⚠️ MIXED',
  skip: '⏭️ SKIPPED'
}

export const GATE_MATRIX_HEADERS = ['Gate', 'Description', 'Status', 'Evidence'] as const

/** What the summary must show: the run's gates in matrix order, from its JSON report. */
export interface SummaryExpectation {
  gates: ReadonlyArray<{ id: string; status: GateStatus }>
}

// A status label is on one line when its text box is at most this many line-heights tall; two
// lines measure about 1.7 line-heights and more, an emoji beside the text about 0.7.
const ONE_LINE_MAX_LINE_HEIGHTS = 1.6
// Sub-pixel slack for comparing edges.
const EDGE_TOLERANCE_PX = 1

/**
 * Loads `html` in a fresh page of `browser` and returns every broken rule as a sentence naming
 * the element; an empty list means the page is fine.
 */
export async function findSummaryPageProblems(browser: Browser, html: string, expected: SummaryExpectation): Promise<string[]> {
  const page = await browser.newPage({ viewport: SUMMARY_VIEWPORT })
  try {
    const consoleErrors: string[] = []
    const requests: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text())
    })
    page.on('pageerror', (error) => consoleErrors.push(error.message))
    page.on('request', (request) => {
      if (!request.url().startsWith('data:')) requests.push(request.url())
    })
    await page.setContent(html, { waitUntil: 'load' })

    const problems = judgeGateMatrix(await page.evaluate(measureGateMatrices, [...GATE_MATRIX_HEADERS]), expected)
    problems.push(...judgeOverflow(await page.evaluate(measureOverflow), 'as loaded'))
    problems.push(...judgeFoldsAsLoaded(await page.evaluate(measureDetails, false), expected))
    // Then every fold opened: each must show its content, and the page still fit.
    problems.push(...judgeFoldsOpened(await page.evaluate(measureDetails, true)))
    problems.push(...judgeOverflow(await page.evaluate(measureOverflow), 'with every <details> open'))
    for (const text of consoleErrors) problems.push(`console error: ${text}`)
    for (const url of requests) problems.push(`network request: ${url}`)
    return problems
  } finally {
    await page.close()
  }
}

// --- The gate matrix -----------------------------------------------------------------------

interface StatusCellFacts {
  text: string
  textHeight: number
  lineHeight: number
  visible: boolean
  insideTableView: boolean
}

interface GateMatrixFacts {
  tableHeaders: string[][]
  matrices: Array<{ rows: Array<{ cellCount: number; gateId: string | null; status: StatusCellFacts | null }> }>
}

function judgeGateMatrix(facts: GateMatrixFacts, expected: SummaryExpectation): string[] {
  const wanted = GATE_MATRIX_HEADERS.join(' | ')
  if (facts.matrices.length !== 1) {
    const found = facts.tableHeaders.map((headers) => `[${headers.join(' | ')}]`).join(', ') || 'none'
    return [`expected one <table> with headers ${wanted}, found ${facts.matrices.length} (tables: ${found})`]
  }
  const rows = facts.matrices[0]?.rows ?? []
  const problems: string[] = []
  if (rows.length !== expected.gates.length) {
    problems.push(`gate matrix has ${rows.length} rows, expected ${expected.gates.length} (one per gate)`)
  }
  const knownLabels = Object.values(STATUS_LABELS)
  rows.forEach((row, index) => {
    const gate = expected.gates[index]
    const where = `gate matrix row ${index + 1} (${row.gateId ?? 'no gate id'})`
    if (row.cellCount !== GATE_MATRIX_HEADERS.length) problems.push(`${where}: ${row.cellCount} cells, expected ${GATE_MATRIX_HEADERS.length}`)
    if (gate !== undefined && row.gateId !== gate.id) problems.push(`${where}: expected gate ${gate.id} here`)
    const status = row.status
    if (status === null) return
    if (!knownLabels.some((label) => status.text.startsWith(label))) {
      problems.push(`${where}: status "${status.text}" starts with none of ${knownLabels.join(', ')}`)
    } else if (gate !== undefined && !status.text.startsWith(STATUS_LABELS[gate.status])) {
      problems.push(`${where}: status "${status.text}", but the report says ${gate.status} (${STATUS_LABELS[gate.status]})`)
    }
    if (status.textHeight > ONE_LINE_MAX_LINE_HEIGHTS * status.lineHeight) {
      problems.push(
        `${where}: status "${status.text}" wraps: ${status.textHeight.toFixed(1)} px tall, ` +
          `more than ${ONE_LINE_MAX_LINE_HEIGHTS} × its ${status.lineHeight} px line-height`
      )
    }
    if (!status.visible) problems.push(`${where}: status "${status.text}" is not visible`)
    else if (!status.insideTableView) problems.push(`${where}: status "${status.text}" is scrolled out of the table's view`)
  })
  return problems
}

/** In the page: every table whose header row is `headers`, with what each row shows. */
function measureGateMatrices(headers: string[]): GateMatrixFacts {
  const { document, getComputedStyle, innerWidth } = globalThis as unknown as PageWindow
  const tables = Array.from(document.querySelectorAll('article table'))
  const tableHeaders = tables.map((table) => Array.from(table.querySelectorAll('thead th')).map((th) => (th.textContent ?? '').replace(/\s+/g, ' ').trim()))
  const matrices = tables
    .filter((_, index) => tableHeaders[index]?.join('\n') === headers.join('\n'))
    .map((table) => {
      const tableBox = table.getBoundingClientRect()
      const viewLeft = tableBox.left + table.clientLeft
      const viewRight = Math.min(viewLeft + table.clientWidth, innerWidth)
      const statusColumn = headers.indexOf('Status')
      const rows = Array.from(table.querySelectorAll('tbody > tr')).map((tr) => {
        const cells = Array.from(tr.children)
        const statusCell = cells[statusColumn]
        let status: StatusCellFacts | null = null
        if (statusCell !== undefined) {
          // The cell's own box is as tall as the row; the text's box tells whether it wrapped.
          const range = document.createRange()
          range.selectNodeContents(statusCell)
          const textBox = range.getBoundingClientRect()
          const style = getComputedStyle(statusCell)
          const lineHeight = style.lineHeight === 'normal' ? 1.2 * parseFloat(style.fontSize) : parseFloat(style.lineHeight)
          status = {
            text: (statusCell.textContent ?? '').replace(/\s+/g, ' ').trim(),
            textHeight: textBox.height,
            lineHeight,
            visible:
              textBox.width > 0 &&
              textBox.height > 0 &&
              statusCell.checkVisibility({ opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: true }),
            insideTableView: textBox.left >= viewLeft - 1 && textBox.right <= viewRight + 1
          }
        }
        const gateCode = cells[0]?.querySelector('code')
        return { cellCount: cells.length, gateId: gateCode ? (gateCode.textContent ?? '').trim() : null, status }
      })
      return { rows }
    })
  return { tableHeaders, matrices }
}

// --- Folded evidence -----------------------------------------------------------------------

interface DetailsFacts {
  summary: string
  open: boolean
  /** Whether any of its content (everything but the <summary>) is rendered. */
  contentShown: boolean
  /** How much taller the <details> is than its <summary>: 0 when folded. */
  heightBelowSummary: number
}

/**
 * Long evidence folds away: a <details> is closed and hides its content. The one exception is
 * the summary's own design: a failed gate's details open by default (src/report/markdown.ts,
 * gateDetailsSection), since the failure is what the reader came for, and show their content.
 */
function judgeFoldsAsLoaded(allDetails: DetailsFacts[], expected: SummaryExpectation): string[] {
  const failedGateIds = new Set(expected.gates.filter((gate) => gate.status === 'fail').map((gate) => gate.id))
  const problems: string[] = []
  for (const details of allDetails) {
    // A gate's details are summarised as "❌ FAIL Runtime (runtime): details".
    const gateId = /\(([\w-]+)\): details$/.exec(details.summary)?.[1]
    const opensByDesign = details.summary.startsWith(STATUS_LABELS.fail) && gateId !== undefined && failedGateIds.has(gateId)
    const where = `<details> "${details.summary}"`
    if (details.open && !opensByDesign) problems.push(`${where} is open by default; only a failed gate's details may be`)
    if (!details.open && opensByDesign) problems.push(`${where} is closed, but a failed gate's details open by default`)
    if (!details.open && (details.contentShown || details.heightBelowSummary >= EDGE_TOLERANCE_PX)) {
      problems.push(`${where} is closed but its content shows (${details.heightBelowSummary.toFixed(0)} px below the summary)`)
    }
    if (details.open && !showsContent(details)) problems.push(`${where} is open but its content does not show`)
  }
  return problems
}

/** Once opened, every <details> shows its content. */
function judgeFoldsOpened(allDetails: DetailsFacts[]): string[] {
  return allDetails.filter((details) => !showsContent(details)).map((details) => `<details> "${details.summary}": opened, its content still does not show`)
}

function showsContent(details: DetailsFacts): boolean {
  return details.contentShown && details.heightBelowSummary >= EDGE_TOLERANCE_PX
}

/** In the page: the facts of every <details>, after opening them all when `openAll`. */
function measureDetails(openAll: boolean): DetailsFacts[] {
  const { document } = globalThis as unknown as PageWindow
  const allDetails = Array.from(document.querySelectorAll('article details'))
  if (openAll) for (const details of allDetails) details.open = true
  return allDetails.map((details) => {
    const children = Array.from(details.children)
    const summary = children.find((child) => child.tagName === 'SUMMARY')
    // checkVisibility is false for what a closed <details> hides (Chromium keeps its layout
    // boxes, so their sizes alone would not tell).
    const contentShown = children.some((child) => child !== summary && child.checkVisibility({ visibilityProperty: true }))
    const summaryHeight = summary?.getBoundingClientRect().height ?? 0
    return {
      summary: (summary?.textContent ?? '').replace(/\s+/g, ' ').trim(),
      open: details.open === true,
      contentShown,
      heightBelowSummary: details.getBoundingClientRect().height - summaryHeight
    }
  })
}

// --- Overflow --------------------------------------------------------------------------------

interface OverflowFacts {
  documentScrollWidth: number
  windowWidth: number
  article: { scrollWidth: number; clientWidth: number }
  /** Every rendered table and pre, which GitHub lets scroll sideways on their own. */
  scrollables: Array<{ element: string; scrollWidth: number; clientWidth: number; overflowX: string }>
  /** Rendered elements, outside any scrolling box, that reach past the article's sides. */
  protruding: Array<{ element: string; left: number; right: number }>
  articleInner: { left: number; right: number }
}

function judgeOverflow(facts: OverflowFacts, state: string): string[] {
  const problems: string[] = []
  if (facts.documentScrollWidth > facts.windowWidth) {
    problems.push(`${state}: the page scrolls sideways (${facts.documentScrollWidth} px wide in a ${facts.windowWidth} px window)`)
  }
  if (facts.article.scrollWidth > facts.article.clientWidth) {
    problems.push(`${state}: the article overflows (${facts.article.scrollWidth} px of content in ${facts.article.clientWidth} px)`)
  }
  for (const scrollable of facts.scrollables) {
    const scrolls = scrollable.overflowX === 'auto' || scrollable.overflowX === 'scroll'
    if (scrollable.scrollWidth > scrollable.clientWidth && !scrolls) {
      problems.push(
        `${state}: ${scrollable.element} is ${scrollable.scrollWidth} px wide in ${scrollable.clientWidth} px ` +
          `and does not scroll (overflow-x: ${scrollable.overflowX})`
      )
    }
  }
  for (const element of facts.protruding) {
    problems.push(
      `${state}: ${element.element} reaches past the article ` +
        `(${element.left.toFixed(0)}–${element.right.toFixed(0)} px, article ${facts.articleInner.left.toFixed(0)}–${facts.articleInner.right.toFixed(0)} px)`
    )
  }
  return problems
}

/** In the page: widths that tell whether anything sticks out sideways. */
function measureOverflow(): OverflowFacts {
  const { document, getComputedStyle, innerWidth } = globalThis as unknown as PageWindow
  const article = document.querySelector('article')
  if (article === null) throw new Error('no <article> in the page')
  const articleBox = article.getBoundingClientRect()
  const articleInner = { left: articleBox.left + article.clientLeft, right: articleBox.left + article.clientLeft + article.clientWidth }
  const scrollingOverflows = ['auto', 'scroll', 'hidden', 'clip']
  const rendered = Array.from(article.querySelectorAll('*'))
    .filter((element) => element.checkVisibility())
    .map((element) => {
      const tag = element.tagName.toLowerCase()
      // Named like `<pre> #3 in "Worker log (last 45 lines)" ("…")`: its place among its kind, its fold.
      const place = Array.from(article.querySelectorAll(tag)).indexOf(element) + 1
      const fold = element.closest('details')?.querySelector('summary')?.textContent?.replace(/\s+/g, ' ').trim()
      const text = (element.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 40)
      let insideScroller = false
      for (let ancestor = element.parentElement; ancestor !== null && ancestor !== article; ancestor = ancestor.parentElement) {
        if (scrollingOverflows.includes(getComputedStyle(ancestor).overflowX)) insideScroller = true
      }
      return {
        element,
        name: `<${tag}> #${place}${fold === undefined ? '' : ` in "${fold}"`} ("${text}…")`,
        insideScroller,
        box: element.getBoundingClientRect()
      }
    })
  return {
    documentScrollWidth: document.documentElement.scrollWidth,
    windowWidth: innerWidth,
    article: { scrollWidth: article.scrollWidth, clientWidth: article.clientWidth },
    scrollables: rendered
      .filter(({ element }) => element.tagName === 'TABLE' || element.tagName === 'PRE')
      .map(({ element, name }) => ({
        element: name,
        scrollWidth: element.scrollWidth,
        clientWidth: element.clientWidth,
        overflowX: getComputedStyle(element).overflowX
      })),
    protruding: rendered
      .filter(({ insideScroller, box }) => !insideScroller && box.width > 0)
      .filter(({ box }) => box.left < articleInner.left - 1 || box.right > articleInner.right + 1)
      .map(({ name, box }) => ({ element: name, left: box.left, right: box.right })),
    articleInner
  }
}

// --- The DOM the page-side functions use ----------------------------------------------------
// tsconfig has no DOM library (adding it would let src/ use browser globals unnoticed), so the
// few shapes those functions touch are declared here and read from `globalThis` in the page.

interface PageRect {
  left: number
  right: number
  width: number
  height: number
}

interface PageElement {
  readonly tagName: string
  readonly textContent: string | null
  readonly parentElement: PageElement | null
  readonly children: ArrayLike<PageElement>
  readonly scrollWidth: number
  readonly clientWidth: number
  readonly clientLeft: number
  /** Only on <details>. */
  open?: boolean
  getBoundingClientRect(): PageRect
  checkVisibility(options?: { opacityProperty?: boolean; visibilityProperty?: boolean; contentVisibilityAuto?: boolean }): boolean
  querySelector(selectors: string): PageElement | null
  querySelectorAll(selectors: string): ArrayLike<PageElement>
  closest(selectors: string): PageElement | null
}

interface PageWindow {
  document: {
    documentElement: PageElement
    querySelector(selectors: string): PageElement | null
    querySelectorAll(selectors: string): ArrayLike<PageElement>
    createRange(): { selectNodeContents(node: PageElement): void; getBoundingClientRect(): PageRect }
  }
  innerWidth: number
  getComputedStyle(element: PageElement): { overflowX: string; lineHeight: string; fontSize: string }
}
