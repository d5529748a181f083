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

const PAINT: Readonly<Record<GateStatus, (text: string) => string>> = {
  pass: pc.green,
  fail: (text) => pc.bold(pc.red(text)),
  warn: pc.yellow,
  skip: pc.dim
}

/** Colours a status (already padded) when the stream takes colours; picocolors honours NO_COLOR and --no-color. */
export function paintStatus(status: GateStatus, text: string): string {
  return PAINT[status](text)
}

export function isInteractive(stream: Writable & { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.CI
}

export class TerminalProgress {
  private spinner: Spinner | undefined

  constructor(
    private readonly stream: Writable & { isTTY?: boolean },
    private readonly redact: (text: string) => string,
    private readonly interactive = isInteractive(stream)
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
    this.write(`${paintStatus(result.status, statusLabel(result.status).padEnd(7))} ${line}`)
  }

  info(message: string): void {
    this.interrupt(() => this.write(pc.dim(this.redact(message))))
  }

  warning(message: string): void {
    this.interrupt(() => this.write(`${pc.yellow('warning:')} ${this.redact(message)}`))
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
