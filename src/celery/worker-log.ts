// What the worker prints, kept within bounds: a ring of recent lines (for evidence) and a
// redacted log file (for the report). A worker that floods megabytes of tracebacks per second
// costs memory and disk only up to these bounds. Every line is cut to size and scrubbed of
// secrets before it is kept, written or handed to a listener.
import { createWriteStream, mkdirSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs'
import path from 'node:path'
import type { SecretRegistry } from '../secrets.js'
import { LineSplitter } from './line-splitter.js'

export const TAIL_LINES = 200
// JSON log records carry whole tracebacks on one line.
const MAX_LINE_CHARS = 16_000
const MAX_LOG_FILE_BYTES = 8 * 1024 * 1024

export type LineListener = (line: string) => void

export class WorkerLog {
  private readonly tail: string[] = []
  private readonly listeners: LineListener[] = []
  private log: WriteStream | undefined
  private logBytes = 0
  private logTruncated = false

  constructor(
    readonly file: string,
    private readonly secrets: SecretRegistry
  ) {
    this.open()
  }

  /** A splitter feeding this log: one per source (each pipe, or the followed output file). */
  splitter(): LineSplitter {
    // A runaway line without newline is cut rather than grown without bound.
    return new LineSplitter((line) => this.accept(line), MAX_LINE_CHARS * 4)
  }

  /** Reads a pipe to its end, line by line. */
  readStream(stream: NodeJS.ReadableStream | null): void {
    if (!stream) return
    const lines = this.splitter()
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => lines.push(chunk))
    stream.on('end', () => lines.flush())
    stream.on('error', () => {})
  }

  onLine(listener: LineListener): void {
    this.listeners.push(listener)
  }

  /** The last lines the worker printed, secrets redacted. */
  lastLines(n = TAIL_LINES): string[] {
    return this.tail.slice(-n)
  }

  info(): { file: string; bytes: number; truncated: boolean } {
    return { file: this.file, bytes: this.logBytes, truncated: this.logTruncated }
  }

  async close(): Promise<void> {
    const log = this.log
    this.log = undefined
    if (!log) return
    await new Promise<void>((resolve) => log.end(() => resolve()))
    this.redactWritten()
  }

  /**
   * The file once more, with every secret the run knows by now: an app may print a password
   * before the action learns it (the DSN its settings build comes with the probe, after the
   * import printed), and the line is on disk by then. Bounded by MAX_LOG_FILE_BYTES.
   */
  private redactWritten(): void {
    try {
      const written = readFileSync(this.file, 'utf8')
      const cleaned = written
        .split('\n')
        .map((line) => this.secrets.clean(line))
        .join('\n')
      if (cleaned !== written) writeFileSync(this.file, cleaned, { mode: 0o600 })
    } catch {
      // Unreadable or gone: nothing more of it is shown.
    }
  }

  private accept(rawLine: string): void {
    const trimmed = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine
    const clipped = trimmed.length > MAX_LINE_CHARS ? `${trimmed.slice(0, MAX_LINE_CHARS)} …[line cut]` : trimmed
    // Known secrets and credential patterns are cut before the line is kept, logged or listened to.
    const line = this.secrets.clean(clipped)
    this.tail.push(line)
    if (this.tail.length > TAIL_LINES * 2) this.tail.splice(0, this.tail.length - TAIL_LINES)
    this.write(line)
    for (const listener of this.listeners) listener(line)
  }

  private open(): void {
    try {
      // Private to the runner's user: the log is pull-request output and may quote what it read.
      mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 })
      this.log = createWriteStream(this.file, { flags: 'w', mode: 0o600 })
      this.log.on('error', () => {
        this.log = undefined
      })
    } catch {
      this.log = undefined
    }
  }

  private write(line: string): void {
    const bytes = Buffer.byteLength(line) + 1
    this.logBytes += bytes
    if (!this.log || this.logTruncated) return
    if (this.logBytes > MAX_LOG_FILE_BYTES) {
      this.logTruncated = true
      this.log.write(`[log truncated: the worker printed more than ${MAX_LOG_FILE_BYTES} bytes]\n`)
      return
    }
    this.log.write(`${line}\n`)
  }
}
