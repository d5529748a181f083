// The CLI's contract with the action: one flag per input, named and defaulted as in action.yml,
// every flag in --help; bad flags exit 2 in one line; progress as spinners in a terminal and as
// plain lines in CI or a pipe. (Runs of the CLI on a real worker: test/integration/cli.test.ts.)
import { existsSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { INPUT_FLAGS, rawInputsFromFlags } from '../../src/cli/flags.js'
import { ExitCode, buildProgram, runCli } from '../../src/cli/program.js'
import { TerminalProgress, isInteractive, paletteFor } from '../../src/cli/terminal.js'
import { Inputs } from '../../src/constants.js'
import type { GateResult } from '../../src/report/model.js'

const REPO = path.resolve(import.meta.dirname, '..', '..')
const actionInputs = (parse(readFileSync(path.join(REPO, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string; required?: boolean }> }).inputs

/** What a terminal or a pipe receives. As a TTY it answers the cursor calls a tty.WriteStream has. */
class Capture extends Writable {
  text = ''
  columns = 100
  constructor(readonly isTTY = false) {
    super()
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString()
    done()
  }
  cursorTo(x: number): boolean {
    this.text += `\x1b[${x + 1}G`
    return true
  }
  moveCursor(_dx: number, dy: number): boolean {
    if (dy < 0) this.text += `\x1b[${-dy}A`
    return true
  }
  clearLine(): boolean {
    this.text += '\x1b[2K'
    return true
  }
}

const io = (): { stdout: Capture; stderr: Capture; env: NodeJS.ProcessEnv } => ({ stdout: new Capture(), stderr: new Capture(), env: {} })

describe('flags mirror the action inputs', () => {
  it('has one flag per input of action.yml, and no other input flag', () => {
    expect(Object.keys(INPUT_FLAGS).sort()).toEqual(Object.keys(actionInputs).sort())
    expect(Object.values(Inputs).sort()).toEqual(Object.keys(actionInputs).sort())
  })

  it("states each input's default as action.yml does", () => {
    for (const [name, input] of Object.entries(actionInputs)) {
      const flag = INPUT_FLAGS[name as keyof typeof INPUT_FLAGS]
      const declared = input.default === undefined || input.default === '' ? undefined : String(input.default)
      expect({ name, default: flag.default }).toEqual({ name, default: declared })
    }
  })

  it('documents every flag in --help', async () => {
    const streams = io()
    expect(await runCli(['--help'], streams)).toBe(ExitCode.Pass)
    const help = streams.stdout.text
    for (const [name, flag] of Object.entries(INPUT_FLAGS)) {
      const spelled = flag.value ? `--${name} <${flag.value}>` : flag.default === 'true' ? `--no-${name}` : `--${name}`
      expect(help, name).toContain(spelled)
    }
    for (const extra of ['--json', '--summary-file <path>', '--no-color', '--help', '--version']) expect(help).toContain(extra)
    expect(help).toMatch(/Exit codes: 0 .* 1 .*\n2 a flag is missing or wrong, 130 interrupted/)
  })

  it('turns flags back into the raw inputs the runner would pass', () => {
    const program = buildProgram()
    program.parse(['--app', 'app.celery_app', '--working-directory', 'examples/tenant-app', '--timeout', '5', '--keep-worker', '--no-pr-comment'], {
      from: 'user'
    })
    expect(rawInputsFromFlags(program.opts())).toEqual({
      app: 'app.celery_app',
      'working-directory': 'examples/tenant-app',
      timeout: '5',
      'keep-worker': 'true',
      'pr-comment': 'false'
    })
  })
})

describe('bad flags', () => {
  it('exits 2 with one line naming the input, writing the report nonetheless (--keep-files)', async () => {
    const streams = io()
    const code = await runCli(['--app', 'app.celery_app', '--timeout', 'soon', '--keep-files'], streams)
    expect(code).toBe(ExitCode.Usage)
    const lines = streams.stderr.text.split('\n').filter((l) => l.startsWith('celery-foundation-gates:'))
    expect(lines).toEqual(['celery-foundation-gates: Input "timeout": expected a number of seconds from 1 to 3600, got "soon"'])
    // The matrix still shows where the bad input belongs.
    expect(streams.stdout.text).toMatch(/runtime\s+FAIL\s+Input "timeout"/)
    expect(streams.stderr.text).toMatch(/^Report: .*report\.json$/m)
    const kept = /^Run folder kept: (.*cfg-[0-9a-f]{8}) \(worker log, report\.json\)$/m.exec(streams.stderr.text)?.[1]
    expect(kept && existsSync(kept)).toBe(true)
    rmSync(kept as string, { recursive: true, force: true })
  })

  it('without --keep-files, writes no report file and leaves no run folder', async () => {
    const streams = io()
    expect(await runCli(['--app', 'app.celery_app', '--timeout', 'soon'], streams)).toBe(ExitCode.Usage)
    expect(streams.stderr.text).not.toMatch(/^Report: /m)
    expect(streams.stdout.text).toMatch(/runtime\s+FAIL\s+Input "timeout"/)
  })

  it('a missing --app is one line on stderr, and no matrix', async () => {
    const streams = io()
    expect(await runCli(['--timeout', '5'], streams)).toBe(ExitCode.Usage)
    expect(streams.stdout.text).toBe('')
    expect(streams.stderr.text).toBe(
      'celery-foundation-gates: --app is required: the Celery app as given to `celery -A`, e.g. app.celery_app\n(run with --help for every flag)\n'
    )
  })

  it('colours the matrix from its own streams and environment, not from the host process', async () => {
    // The host may run with CI or FORCE_COLOR set (CI does): the run's env is what counts.
    const plain = io()
    await runCli(['--app', 'app.celery_app', '--timeout', 'soon'], plain)
    expect(plain.stdout.text).not.toContain('\x1b[')
    const inCi = { ...io(), env: { CI: 'true' } }
    await runCli(['--app', 'app.celery_app', '--timeout', 'soon'], inCi)
    expect(inCi.stdout.text).toMatch(/\x1b\[1m\x1b\[31mFAIL/)
    const noColor = { ...io(), env: { CI: 'true' } }
    await runCli(['--app', 'app.celery_app', '--timeout', 'soon', '--no-color'], noColor)
    expect(noColor.stdout.text).toMatch(/runtime\s+FAIL/)
    expect(noColor.stdout.text + noColor.stderr.text).not.toContain('\x1b[')
  })

  it('exits 2 for an unknown flag, and says where the help is', async () => {
    const streams = io()
    expect(await runCli(['--app', 'x', '--timout', '5'], streams)).toBe(ExitCode.Usage)
    expect(streams.stderr.text).toContain("unknown option '--timout'")
    expect(streams.stderr.text).toContain('(run with --help for every flag)')
  })

  it('exits 0 for --help and --version', async () => {
    const streams = io()
    expect(await runCli(['--version'], streams)).toBe(ExitCode.Pass)
    expect(streams.stdout.text.trim()).toMatch(/^\d+\.\d+\.\d+$/)
    expect(await runCli(['--help'], streams)).toBe(ExitCode.Pass)
    expect(streams.stdout.text).toContain('Usage: celery-foundation-gates [options]')
  })
})

describe('progress', () => {
  const result = (status: GateResult['status']): GateResult => ({
    id: 'runtime',
    title: 'Runtime',
    description: '',
    status,
    evidence: 'pong after 0.8 s\nmore',
    foundation: true,
    durationMs: 1
  })
  const gate = {
    id: 'runtime' as const,
    title: 'Runtime',
    description: '',
    foundation: true,
    needs: [],
    run: async () => ({ status: 'pass' as const, evidence: '' })
  }

  it('decides colours as picocolors and Node do, per stream', () => {
    const on = (stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, flag?: boolean): boolean => paletteFor(stream, env, flag).status('fail', 'FAIL') !== 'FAIL'
    expect(on({ isTTY: true }, {})).toBe(true)
    expect(on({ isTTY: true }, { TERM: 'dumb' })).toBe(false)
    expect(on({}, {})).toBe(false)
    expect(on({}, { CI: 'true' })).toBe(true)
    expect(on({}, { FORCE_COLOR: '1' })).toBe(true)
    expect(on({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false)
    expect(on({ isTTY: true }, { NO_COLOR: '1' })).toBe(false)
    expect(on({ isTTY: true }, { FORCE_COLOR: '1' }, false)).toBe(false)
  })

  it('is interactive only on a TTY outside CI', () => {
    expect(isInteractive(new Capture(true), {})).toBe(true)
    expect(isInteractive(new Capture(true), { CI: 'true' })).toBe(false)
    expect(isInteractive(new Capture(false), {})).toBe(false)
  })

  it('prints one plain line per gate when not interactive, first evidence line only, redacted', () => {
    const stream = new Capture()
    const progress = new TerminalProgress(stream, (t) => t.replace('0.8', '***'), false)
    progress.gateStarted(gate)
    progress.gateEnded(result('fail'))
    expect(stream.text.replace(/\x1b\[[0-9;]*m/g, '')).toBe('FAIL    runtime: pong after *** s\n')
  })

  it('spins while a gate runs and ends its line with the status symbol in a terminal', () => {
    const stream = new Capture(true)
    const progress = new TerminalProgress(stream, (t) => t, true)
    progress.gateStarted(gate)
    progress.gateEnded(result('pass'))
    progress.gateStarted(gate)
    progress.gateEnded(result('fail'))
    expect(stream.text).toContain('runtime: Runtime…')
    expect(stream.text).toMatch(/✔.*runtime: pong after 0\.8 s/)
    expect(stream.text).toMatch(/✖.*runtime: pong after 0\.8 s/)
  })
})
