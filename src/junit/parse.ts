// Streams one JUnit XML document through saxes and hands over one TestCase at a time, as soon as
// its </testcase> is read. Nothing but the case being read and the per-file counts is kept, and
// every piece of text is cut to LIMITS, so memory stays bounded whatever the file's size.
// Every <testcase> is a case of its own: pytest's two entries for a test whose call failed and
// whose teardown errored are two failures, each with its own cause (often one harness, one
// foundation), so they are never folded into one.
//
// saxes never expands entities declared in a DTD: a reference to one fails as "undefined entity",
// so entity bombs and external entities end the file as malformed instead of growing or reading.
import { SaxesParser, type SaxesTagPlain } from 'saxes'
import type { ReportCounts, TestCase } from './model.js'
import {
  type CaseResult,
  clipString,
  LIMITS,
  messageOf,
  outcomeOf,
  phaseOf,
  pickResults,
  type ResultKind,
  type Tool,
  toolFromCase,
  toolFromName
} from './outcome.js'

/** The document is not well-formed XML; `detail` says where and why. */
export class MalformedXml extends Error {}
/**
 * The file is not XML at all (its first non-blank character is not `<`). Its content is never
 * quoted: a `junit` glob may match a file that holds anything, a password line included.
 */
export class NotXml extends MalformedXml {}
/** Well-formed so far, but its root element is not a JUnit one; reading stops at the root. */
export class NotJUnit extends Error {}

/** A single text node longer than this is taken out of saxes' buffer piece by piece. */
const DRAIN_AT = 64 * 1024
/** Results kept per case: pytest writes at most two problems; jest-junit one per failed expect. */
const MAX_RESULTS = 3
/**
 * Element nesting read before a file is given up as malformed. Real reports nest a handful of
 * levels (testsuites > testsuite > testcase > failure; nested suites add a few); saxes keeps one
 * open-tag record per level, so 2 million nested elements cost ~700 MB of heap without this.
 */
export const MAX_DEPTH = 256

/** Collects text up to a limit and remembers whether anything was cut. */
class Clip {
  text = ''
  cut = false
  constructor(private readonly limit: number) {}
  add(piece: string): void {
    if (piece.length === 0) return
    const room = this.limit - this.text.length
    if (piece.length <= room) {
      this.text += piece
    } else {
      if (room > 0) this.text += clipString(piece, room)
      this.cut = true
    }
  }
}

interface OpenResult {
  kind: ResultKind
  message: string
  type: string
  text: Clip
}

interface OpenCase {
  /** Depth of the <testcase> element (the root is 0). */
  depth: number
  classname: string
  name: string
  file?: string
  line?: number
  timeSeconds?: number
  results: OpenResult[]
  out: Clip
  err: Clip
  truncated: boolean
}

const IGNORE: { add(piece: string): void } = { add() {} }

/** The internals of saxes 6 that let a long text node be drained (see drainLongText). */
interface SaxesInternals {
  text?: unknown
  state?: unknown
  stateTable?: unknown
}
const saxesProto = SaxesParser.prototype as unknown as Record<string, unknown>

export class JUnitStream {
  readonly counts: ReportCounts = zeroCounts()
  tool: Tool | undefined
  /** Whether anything but whitespace was written (an all-blank file is 'empty', not malformed). */
  sawContent = false
  sawRoot = false

  private readonly parser = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true })
  private depth = 0
  private current: OpenCase | undefined
  private sink: { add(piece: string): void } | undefined
  private closing = false
  private readonly onText = (text: string): void => this.sink?.add(text)

  constructor(
    private readonly report: string,
    private readonly deliver: (tc: TestCase) => void
  ) {
    const { parser } = this
    parser.on('opentag', (tag) => this.open(tag))
    parser.on('closetag', (tag) => this.close(tag))
    parser.on('cdata', (text) => this.sink?.add(text))
    parser.on('error', (error) => {
      const reason = error.message.replace(/^\d+:\d+: /, '').replace(/\.$/, '')
      const ending = this.closing && this.sawRoot ? '; the file ends early' : ''
      throw new MalformedXml(`line ${parser.line}, column ${parser.column}: ${reason}${ending}`)
    })
  }

  /** Parses the next piece of text. Throws MalformedXml or NotJUnit (and whatever deliver throws). */
  write(text: string): void {
    if (!this.sawContent) this.checkStart(text)
    this.parser.write(text)
    this.drainLongText()
  }

  /** Ends the document: checks it is complete. */
  end(): void {
    this.closing = true
    this.parser.close()
  }

  /** Whether the first thing that is not whitespace (nor a byte order mark) opens markup. */
  private checkStart(text: string): void {
    const start = text.search(/\S/)
    if (start < 0) return
    this.sawContent = true
    if (text[start] === '<') return
    throw new NotXml('not XML: it does not start with "<"')
  }

  private open(tag: SaxesTagPlain): void {
    const depth = this.depth++
    if (depth >= MAX_DEPTH) {
      throw new MalformedXml(`line ${this.parser.line}: elements nested deeper than ${MAX_DEPTH} levels; reading stopped there`)
    }
    const { name, attributes } = tag
    if (depth === 0) {
      if (name !== 'testsuites' && name !== 'testsuite') {
        throw new NotJUnit(`the root element is <${clipString(name, 80)}>, not <testsuites> or <testsuite>`)
      }
      this.sawRoot = true
      this.noteTool(toolFromName(name, attributes.name))
      return
    }
    const open = this.current
    if (open === undefined) {
      if (name === 'testsuite') this.noteTool(toolFromName(name, attributes.name))
      else if (name === 'testcase') this.current = this.startCase(depth, attributes)
      return
    }
    if (depth !== open.depth + 1) return
    if (name === 'failure' || name === 'error' || name === 'skipped') {
      if (open.results.length >= MAX_RESULTS) {
        open.truncated = true
        this.capture(IGNORE)
        return
      }
      const result: OpenResult = {
        kind: name,
        message: this.attribute(open, attributes.message, LIMITS.message),
        type: this.attribute(open, attributes.type, LIMITS.attribute),
        text: new Clip(LIMITS.text)
      }
      open.results.push(result)
      this.capture(result.text)
    } else if (name === 'system-out') {
      this.capture(open.out)
    } else if (name === 'system-err') {
      this.capture(open.err)
    }
  }

  private close(tag: SaxesTagPlain): void {
    const depth = --this.depth
    const open = this.current
    if (open === undefined) return
    if (depth === open.depth && tag.name === 'testcase') {
      this.current = undefined
      this.finishCase(open)
    } else if (depth === open.depth + 1 && this.sink !== undefined) {
      this.sink = undefined
      this.parser.off('text')
    }
  }

  /** Sends the text of the element just opened to `sink` (text is not even gathered otherwise). */
  private capture(sink: { add(piece: string): void }): void {
    this.sink = sink
    this.parser.on('text', this.onText)
  }

  private startCase(depth: number, attributes: Record<string, string>): OpenCase {
    const open: OpenCase = {
      depth,
      classname: '',
      name: '',
      results: [],
      out: new Clip(LIMITS.output),
      err: new Clip(LIMITS.output),
      truncated: false
    }
    open.classname = this.attribute(open, attributes.classname, LIMITS.attribute)
    open.name = this.attribute(open, attributes.name, LIMITS.attribute)
    if (attributes.file !== undefined) open.file = this.attribute(open, attributes.file, LIMITS.attribute)
    const line = attributes.line
    if (line !== undefined && /^\d{1,9}$/.test(line.trim())) open.line = Number(line.trim())
    const time = attributes.time?.trim()
    if (time !== undefined && time !== '') {
      const seconds = Number(time)
      if (Number.isFinite(seconds) && seconds >= 0) open.timeSeconds = seconds
    }
    return open
  }

  private attribute(open: OpenCase, value: string | undefined, limit: number): string {
    if (value === undefined) return ''
    if (value.length > limit) open.truncated = true
    return detach(clipString(value, limit))
  }

  private finishCase(open: OpenCase): void {
    const results: CaseResult[] = open.results.map((result) => ({
      kind: result.kind,
      message: result.message,
      type: result.type,
      text: detach(tidy(result.text.text))
    }))
    const { primary, second } = pickResults(results)
    this.noteTool(toolFromCase(open, primary))
    const tc: TestCase = {
      report: this.report,
      classname: open.classname,
      name: open.name,
      outcome: outcomeOf(primary),
      phase: phaseOf(open, primary, this.tool),
      message: detach(messageOf(primary)),
      type: primary?.type ?? '',
      text: primary?.text ?? '',
      systemOut: detach(tidy(open.out.text)),
      systemErr: detach(tidy(open.err.text)),
      truncated: open.truncated || open.out.cut || open.err.cut || open.results.some((result) => result.text.cut)
    }
    if (open.file !== undefined) tc.file = open.file
    // pytest's xunit1 `line` counts from 0 (the item's location); everyone else's from 1.
    if (open.line !== undefined) tc.line = this.tool === 'pytest' ? open.line + 1 : open.line
    if (open.timeSeconds !== undefined) tc.timeSeconds = open.timeSeconds
    if (second !== undefined) {
      tc.alsoFailed = { phase: phaseOf(open, second, this.tool), outcome: outcomeOf(second), message: messageOf(second) }
    }
    this.hand(tc)
  }

  private hand(tc: TestCase): void {
    const { counts } = this
    counts.cases++
    switch (tc.outcome) {
      case 'passed':
        counts.passed++
        break
      case 'failure':
        counts.failed++
        break
      case 'error':
        counts.errored++
        break
      case 'skipped':
        counts.skipped++
        break
      case 'xfailed':
        counts.xfailed++
        break
      case 'xpassed':
        counts.xpassed++
        break
    }
    this.deliver(tc)
  }

  private noteTool(tool: Tool | undefined): void {
    if (this.tool === undefined && tool !== undefined) this.tool = tool
  }

  /**
   * saxes gathers a text node (or CDATA section) whole before it reports it, so one huge
   * <system-out> would sit in memory entire. After each write, a long run of text is taken out of
   * saxes' buffer and given to the element's sink (kept up to its limit, or dropped). This touches
   * saxes 6 internals, checked at run time: where they differ, nothing is drained and only memory,
   * never the result, is affected.
   */
  private drainLongText(): void {
    const internals = this.parser as unknown as SaxesInternals
    const { text, state, stateTable } = internals
    if (typeof text !== 'string' || text.length < DRAIN_AT) return
    if (typeof state !== 'number' || !Array.isArray(stateTable)) return
    const handler: unknown = stateTable[state]
    if (handler === saxesProto.sText && this.sink !== undefined) {
      internals.text = ''
      this.sink.add(text)
    } else if (handler === saxesProto.sCData) {
      internals.text = ''
      this.sink?.add(text)
    }
  }
}

export function zeroCounts(): ReportCounts {
  return { cases: 0, passed: 0, failed: 0, errored: 0, skipped: 0, xfailed: 0, xpassed: 0 }
}

/** Drops the blank lines and indentation runners put around an element's text. */
function tidy(text: string): string {
  if (text === '') return text
  const head = text.charCodeAt(0)
  const tail = text.charCodeAt(text.length - 1)
  const blank = (code: number): boolean => code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d
  if (!blank(head) && !blank(tail)) return text
  return text.replace(/^(?:[ \t]*\r?\n)+/, '').trimEnd()
}

/**
 * A copy of a short string that does not keep the whole chunk it was sliced from alive (V8 keeps
 * the parent string of a slice): cases that the caller holds on to must not pin the file's chunks.
 */
function detach(text: string): string {
  return text.length < 13 ? text : (text + ' ').slice(0, -1)
}
