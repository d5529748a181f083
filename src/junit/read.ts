// Reads the JUnit XML reports that the user's globs match: one ReportFile per file, one onCase
// call per test case, streamed. No file problem is ever thrown: a missing, oversized, binary,
// cut-off, blank or non-JUnit file is a ReportFile with a status and a one-line detail.
//
// The globs come from the workflow but the files from the pull request: a report may be a
// symlink to anything the runner can read. So a file is read only when its real path lies inside
// the workspace, and the detail of a file that is not XML says what it is, never what it holds.
import { constants } from 'node:fs'
import { open, readlink, realpath, type FileHandle } from 'node:fs/promises'
import { isAbsolute, relative, resolve, sep } from 'node:path'
import { StringDecoder } from 'node:string_decoder'
import { TextDecoder } from 'node:util'
import { glob } from 'tinyglobby'
import type { ReadResult, ReportFile, ReportStatus, TestCase } from './model.js'
import { JUnitStream, MalformedXml, NotJUnit, NotXml, zeroCounts } from './parse.js'

export interface ReadOptions {
  /** Directory the globs are relative to (working-directory). */
  cwd: string
  /**
   * Where a relative glob that matches nothing in `cwd` is tried next: most workflows write report
   * paths relative to the workspace (`service/reports/junit.xml`), not to working-directory.
   */
  fallbackCwd?: string
  /** Called once per <testcase>, in document order (pytest's two entries for one test are two calls). */
  onCase(tc: TestCase): void
  /** Per-file size above which the file is not parsed (status 'unreadable', detail says the size). Default 512 MiB. */
  maxFileBytes?: number
  /**
   * Directories a report's real path (symlinks resolved) must lie in; a file outside all of them
   * is 'unreadable' and never opened. Default: `cwd`.
   */
  roots?: readonly string[]
  /** Bytes parsed across all files; a file that would go past it is not parsed. Default MAX_TOTAL_REPORT_BYTES. */
  maxTotalBytes?: number
  /** Files opened at most; the matches past it are one entry saying how many. Default MAX_REPORT_FILES. */
  maxFiles?: number
  /** How long the globs may search; what they found by then is read, and one entry says so. Default REPORT_SEARCH_MS. */
  searchMs?: number
}

export const DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024
// The reports are written by pull-request code, and their number and sizes are its choice: one
// 512 MiB file takes minutes to parse, so a hundred of them would hold the step for hours, and a
// million tiny files would each cost an open and an entry in the report. Bound the whole run.
export const MAX_TOTAL_REPORT_BYTES = 512 * 1024 * 1024
export const MAX_REPORT_FILES = 10_000
// Links are followed (a report may be a link inside the checkout), so a committed `root -> /`
// makes `**/*.xml` walk the runner's whole file system; what it finds outside is refused anyway.
export const REPORT_SEARCH_MS = 30_000
const CHUNK_BYTES = 256 * 1024

/**
 * Where reports may be read from: the workspace on a runner (GITHUB_WORKSPACE, where the checkout
 * and anything the job's steps wrote live); without one (the CLI), the current directory and the
 * working directory the globs start from.
 */
export function workspaceRoots(cwd: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const workspace = env.GITHUB_WORKSPACE?.trim()
  return workspace ? [resolve(workspace)] : [process.cwd(), resolve(cwd)]
}

export async function readJUnitReports(patterns: string[], options: ReadOptions): Promise<ReadResult> {
  const searchMs = options.searchMs ?? REPORT_SEARCH_MS
  const signal = AbortSignal.timeout(searchMs)
  const { matches, unmatched, searched, fromWorkspace } = await matchReports(patterns, options.cwd, options.fallbackCwd, signal)
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES
  const roots = await Promise.all((options.roots ?? [options.cwd]).map(async (root) => realpath(root).catch(() => resolve(root))))
  const maxTotal = options.maxTotalBytes ?? MAX_TOTAL_REPORT_BYTES
  const maxFiles = options.maxFiles ?? MAX_REPORT_FILES
  const files: ReportFile[] = []
  let parsed = 0
  for (const match of matches.slice(0, maxFiles)) {
    const place = await confined(resolve(match.base ?? options.cwd, match.path), roots)
    const read =
      'refused' in place
        ? problem('unreadable', place.refused, 0)
        : await readReportFile(place.real, match.path, options.onCase, maxBytes, roots, { left: maxTotal - parsed, total: maxTotal })
    if (read.status !== 'unreadable') parsed += read.bytes
    files.push({ pattern: match.pattern, path: match.path, ...read })
  }
  if (signal.aborted) {
    const detail = `not read: the search for reports stopped after ${searchMs / 1000} s, and only what it had found is read (a linked directory may lead outside the workspace, where reports are never read); narrow the \`junit\` globs`
    files.push({ pattern: patterns.join(', '), path: '(search stopped)', ...problem('unreadable', detail, 0) })
  }
  const more = matches.length - maxFiles
  if (more > 0) {
    const detail = `not read: ${matches.length.toLocaleString('en-US')} files matched, the first ${maxFiles.toLocaleString('en-US')} are read (the most in one run); narrow the \`junit\` globs`
    files.push({ pattern: matches[maxFiles]?.pattern ?? '', path: `(${more.toLocaleString('en-US')} more files)`, ...problem('unreadable', detail, 0) })
  }
  return { files, unmatched, searched, fromWorkspace }
}

/**
 * The file's real path when it lies inside one of `roots`; otherwise why it is refused (naming
 * where it leads, never opening it). The pull request's code runs alongside (the worker), so a
 * link may be swapped in after this check: readReportFile checks the file it opened once more.
 */
async function confined(path: string, roots: readonly string[]): Promise<{ real: string } | { refused: string }> {
  let real: string
  try {
    real = await realpath(path)
  } catch (error) {
    return { refused: `cannot read it: ${describeError(error)}` }
  }
  if (roots.some((root) => isInside(real, root))) return { real }
  const via = real === path ? '' : ` (it is a link to ${real})`
  return {
    refused: `outside the workspace${via}: reports are read only from inside ${roots.join(' or ')}; not read`
  }
}

function isInside(path: string, root: string): boolean {
  if (path === root) return true
  const rel = relative(root, path)
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel)
}

export interface MatchedReport {
  pattern: string
  path: string
  /** The directory `path` is relative to, when it is not the `cwd` the globs start from. */
  base?: string
}

/**
 * Expands the globs (tinyglobby: `**`, braces, and `!pattern` to leave files out of every other
 * pattern). Files only, dot directories included, paths relative to `cwd` and sorted; a file
 * matched by several patterns is listed once, under the first. A relative pattern with no file in
 * `cwd` is tried in `fallbackCwd` (the workspace) and, when it matches there, is said to have been
 * resolved from it; a pattern left with no file anywhere is unmatched, and `searched` says where
 * it was looked for.
 */
export async function matchReports(
  patterns: readonly string[],
  cwd: string,
  fallbackCwd?: string,
  signal?: AbortSignal
): Promise<{ matches: MatchedReport[]; unmatched: string[]; searched: string[]; fromWorkspace: string[] }> {
  const given = patterns.map((pattern) => pattern.trim()).filter((pattern) => pattern !== '')
  const ignore = given.filter((pattern) => pattern.startsWith('!')).map((pattern) => pattern.slice(1))
  const fallback = fallbackCwd !== undefined && resolve(fallbackCwd) !== resolve(cwd) ? resolve(fallbackCwd) : undefined
  const found = new Map<string, MatchedReport>()
  const unmatched: string[] = []
  const fromWorkspace: string[] = []
  const expand = (pattern: string, base: string): Promise<string[]> =>
    // An absolute pattern reports absolute paths: the path "as matched" is the one the user wrote.
    glob(pattern, { cwd: base, ignore, dot: true, onlyFiles: true, expandDirectories: false, absolute: isAbsolute(pattern), ...(signal ? { signal } : {}) })
  for (const pattern of given.filter((candidate) => !candidate.startsWith('!'))) {
    if (signal?.aborted) break
    let paths = await expand(pattern, cwd)
    let base: string | undefined
    if (paths.length === 0 && fallback !== undefined && !isAbsolute(pattern) && !signal?.aborted) {
      paths = await expand(pattern, fallback)
      if (paths.length > 0) {
        base = fallback
        if (!fromWorkspace.includes(pattern)) fromWorkspace.push(pattern)
      }
    }
    if (paths.length === 0 && !unmatched.includes(pattern)) unmatched.push(pattern)
    for (const path of paths) {
      const key = resolve(base ?? cwd, path)
      if (!found.has(key)) found.set(key, base === undefined ? { pattern, path } : { pattern, path, base })
    }
  }
  const matches = [...found.values()]
  matches.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  const searched = [resolve(cwd), ...(fallback === undefined ? [] : [fallback])]
  return { matches, unmatched, searched, fromWorkspace }
}

type FileRead = Omit<ReportFile, 'pattern' | 'path'>

/** A problem with the file itself (not with its XML). */
class FileProblem extends Error {
  constructor(
    readonly status: ReportStatus,
    detail: string
  ) {
    super(detail)
  }
}

/**
 * Reads one report; `report` is the path put into each case. Throws only what onCase throws.
 * With `roots`, the file actually opened must lie inside one of them (see confined).
 */
export async function readReportFile(
  absolutePath: string,
  report: string,
  onCase: (tc: TestCase) => void,
  maxBytes: number = DEFAULT_MAX_FILE_BYTES,
  roots?: readonly string[],
  budget?: { left: number; total: number }
): Promise<FileRead> {
  let handle: FileHandle
  try {
    // Non-blocking, so that a FIFO is reported instead of waiting for a writer.
    handle = await open(absolutePath, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    return problem('unreadable', `cannot read it: ${describeError(error)}`, 0)
  }
  try {
    if (roots !== undefined) {
      const opened = await openedPath(handle, absolutePath)
      if (!roots.some((root) => isInside(opened, root))) return problem('unreadable', `outside the workspace (it now leads to ${opened}); not read`, 0)
    }
    return await readOpened(handle, report, onCase, maxBytes, budget)
  } finally {
    await handle.close()
  }
}

/** The path of the file behind `handle` as the kernel sees it (Linux), else the real path. */
async function openedPath(handle: FileHandle, path: string): Promise<string> {
  try {
    return await readlink(`/proc/self/fd/${handle.fd}`)
  } catch {
    return realpath(path).catch(() => path)
  }
}

async function readOpened(
  handle: FileHandle,
  report: string,
  onCase: (tc: TestCase) => void,
  maxBytes: number,
  budget?: { left: number; total: number }
): Promise<FileRead> {
  let bytes = 0
  try {
    const info = await handle.stat()
    if (!info.isFile()) return problem('unreadable', 'not a regular file', 0)
    bytes = info.size
  } catch (error) {
    return problem('unreadable', `cannot read it: ${describeError(error)}`, 0)
  }
  if (bytes > maxBytes) {
    return problem('unreadable', `${formatBytes(bytes)} is over the ${formatBytes(maxBytes)} limit; not parsed`, bytes)
  }
  if (budget !== undefined && bytes > budget.left) {
    return problem('unreadable', `${formatBytes(bytes)} would take the reports read in this run past ${formatBytes(budget.total)}; not parsed`, bytes)
  }
  if (bytes === 0) return problem('empty', 'the file is empty (0 bytes)', 0)

  const stream = new JUnitStream(report, onCase)
  const found = (status: ReportStatus, detail?: string): FileRead => {
    const read: FileRead = { status, bytes, counts: stream.counts }
    if (detail !== undefined) read.detail = detail
    const tool = stream.tool ?? (stream.sawRoot ? 'junit' : undefined)
    if (tool !== undefined) read.tool = tool
    return read
  }
  try {
    let decoder: Decoder | undefined
    // Only the bytes the file had when it was opened: the worker may still be appending to it.
    for await (const chunk of chunksOf(handle, bytes)) {
      decoder ??= decoderFor(chunk)
      stream.write(decoder.write(chunk))
    }
    if (decoder !== undefined) stream.write(decoder.end())
    if (!stream.sawContent) return problem('empty', `the file holds only whitespace (${bytes} bytes)`, bytes)
    stream.end()
    return found('ok')
  } catch (error) {
    if (error instanceof FileProblem) {
      return found(error.status, error.message)
    }
    if (error instanceof NotJUnit) return found('not-junit', error.message)
    if (error instanceof NotXml) return found('malformed', `not XML: ${formatBytes(bytes)} of text that does not start with "<" (its content is not shown)`)
    if (error instanceof MalformedXml) {
      return found('malformed', error.message)
    }
    throw error
  }
}

async function* chunksOf(handle: FileHandle, bytes: number): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of handle.createReadStream({ highWaterMark: CHUNK_BYTES, start: 0, end: bytes - 1, autoClose: false })) yield chunk as Buffer
  } catch (error) {
    throw new FileProblem('unreadable', `cannot read it: ${describeError(error)}`)
  }
}

interface Decoder {
  write(chunk: Buffer): string
  end(): string
}

/**
 * UTF-8 unless a byte order mark or the XML declaration says otherwise. Bytes that are not valid
 * in the encoding become U+FFFD rather than costing the whole report (one odd byte in captured
 * output must not hide every result); a binary file is caught by its NUL bytes, and by the XML
 * parser otherwise.
 */
function decoderFor(first: Buffer): Decoder {
  if (first[0] === 0xff && first[1] === 0xfe) return fromTextDecoder(new TextDecoder('utf-16le'))
  if (first[0] === 0xfe && first[1] === 0xff) return fromTextDecoder(new TextDecoder('utf-16be'))
  if (first.subarray(0, 8192).includes(0)) {
    throw new FileProblem('malformed', 'binary data (it holds NUL bytes), not XML text')
  }
  const declared = /^(?:\xef\xbb\xbf)?<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']/.exec(first.subarray(0, 256).toString('latin1'))?.[1]
  // Node's own decoder is the fastest for the usual case.
  if (declared === undefined || /^utf-?8$/i.test(declared)) return new StringDecoder('utf8')
  try {
    return fromTextDecoder(new TextDecoder(declared))
  } catch {
    throw new FileProblem('malformed', `the XML declaration names an encoding this reader does not know: ${declared}`)
  }
}

function fromTextDecoder(decoder: TextDecoder): Decoder {
  return {
    write: (chunk) => decoder.decode(chunk, { stream: true }),
    end: () => decoder.decode()
  }
}

function problem(status: ReportStatus, detail: string, bytes: number): FileRead {
  return { status, detail, bytes, counts: zeroCounts() }
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return text.split('\n')[0] ?? text
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`
}
