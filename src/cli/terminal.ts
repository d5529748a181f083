// What the CLI shows while the gates run: a spinner per gate in an interactive terminal, plain
// progress lines otherwise (not a TTY, or CI set: logs keep every line and no escape codes).
// Progress goes to stderr, so that stdout carries only the result (the matrix, or --json).
import type { Writable } from 'node:stream'
import pc from 'picocolors'
import yoctoSpinner, { type Spinner } from 'yocto-spinner'
import type { GateStatus } from '../constants.js'
import type { Gate } from '../gates/gate.js'
import type { GateResult } from '../report/model.js'
import { statusLabel } from '../report/status.js'
import { stripControlCharacters } from '../report/escape.js'

/** The few styles the CLI uses, coloured or plain for one stream. */
export interface Palette {
  /** A status word (already padded): green pass, bold red fail, yellow warn, dim skip. */
  status(status: GateStatus, text: string): string
  dim(text: string): string
  warning(text: string): string
}

/**
 * Colours for one stream, decided from that stream and the run's environment — never from the
 * process's own (picocolors' default export reads process.env and process.argv once at import,
 * so a caller with its own streams and environment, such as a test, would get the host's choice).
 * As picocolors and Node decide it: --no-color and NO_COLOR turn colours off; FORCE_COLOR
 * (other than 0/false) turns them on; otherwise a terminal or a CI log (which renders ANSI) gets them.
 */
export function paletteFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, colorFlag = true): Palette {
  const force = env.FORCE_COLOR
  const enabled =
    colorFlag &&
    !env.NO_COLOR &&
    (force !== undefined ? force !== '0' && force !== 'false' : (stream.isTTY === true && env.TERM !== 'dumb') || env.CI !== undefined)
  const c = pc.createColors(enabled)
  const paint: Readonly<Record<GateStatus, (text: string) => string>> = {
    pass: c.green,
    fail: (text) => c.bold(c.red(text)),
    warn: c.yellow,
    skip: c.dim
  }
  return { status: (status, text) => paint[status](text), dim: c.dim, warning: c.yellow }
}

export function isInteractive(stream: Writable & { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.CI
}

export class TerminalProgress {
  private spinner: Spinner | undefined

  constructor(
    private readonly stream: Writable & { isTTY?: boolean },
    private readonly redact: (text: string) => string,
    private readonly interactive = isInteractive(stream),
    private readonly palette: Palette = paletteFor(stream, process.env)
  ) {}

  gateStarted(gate: Gate): void {
    if (!this.interactive) return
    // The signals are the session's: it stops the worker warm on the first Ctrl-C.
    this.spinner = yoctoSpinner({ text: `${gate.id}: ${gate.title}…`, stream: this.stream, handleSignals: false }).start()
  }

  gateEnded(result: GateResult): void {
    const evidence = firstLine(this.redact(result.evidence))
    const line = `${result.id}: ${evidence}`
    const spinner = this.spinner
    this.spinner = undefined
    if (spinner) {
      const end = { pass: spinner.success, fail: spinner.error, warn: spinner.warning, skip: spinner.info }[result.status]
      end.call(spinner, line)
      return
    }
    this.write(`${this.palette.status(result.status, statusLabel(result.status).padEnd(7))} ${line}`)
  }

  info(message: string): void {
    this.interrupt(() => this.write(this.palette.dim(this.redact(message))))
  }

  warning(message: string): void {
    this.interrupt(() => this.write(`${this.palette.warning('warning:')} ${this.redact(message)}`))
  }

  /** Stops a running spinner for good (the run is over or interrupted). */
  stop(): void {
    this.spinner?.stop()
    this.spinner = undefined
  }

  private interrupt(print: () => void): void {
    // A line printed under a spinning line would be overwritten by its next frame.
    const text = this.spinner?.text
    this.spinner?.clear()
    print()
    if (this.spinner && text !== undefined) this.spinner.text = text
  }

  private write(line: string): void {
    this.stream.write(`${line}\n`)
  }
}

function firstLine(text: string): string {
  return stripControlCharacters(text).split('\n')[0]?.trim() ?? ''
}
