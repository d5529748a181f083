// The CLI as a user in a terminal runs it: `node dist/cli.js …` from the repository, with a
// terminal user's environment (no GITHUB_* variables, no RUNNER_TEMP), no stdin, a hard limit far
// above any timeout the CLI is given. One place for what the CLI tests share.
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import type { ExampleDatabase } from './example.js'
import { EXAMPLE_APP, REPO, pythonFor } from './action.js'

export const CLI = path.join(REPO, 'dist', 'cli.js')

export interface CommandRun {
  code: number | null
  stdout: string
  stderr: string
  ms: number
}

export interface CommandOptions {
  cwd?: string
  killAfterMs?: number
  onSpawn?: (pid: number) => void
}

/** Runs a command with a terminal user's environment plus `env`; never throws for its exit code. */
export async function runCommand(command: string, args: string[], env: Record<string, string>, options: CommandOptions = {}): Promise<CommandRun> {
  const t0 = performance.now()
  const child = execa(command, args, {
    cwd: options.cwd ?? REPO,
    env: terminalEnv(env),
    extendEnv: false,
    stdin: 'ignore',
    stripFinalNewline: false,
    timeout: options.killAfterMs ?? 150_000,
    killSignal: 'SIGKILL',
    reject: false
  })
  options.onSpawn?.(child.pid as number)
  const result = await child
  return { code: result.exitCode ?? null, stdout: result.stdout, stderr: result.stderr, ms: performance.now() - t0 }
}

export function runCli(args: string[], env: Record<string, string>, options: CommandOptions = {}): Promise<CommandRun> {
  return runCommand(process.execPath, [CLI, ...args], env, options)
}

/** A terminal user's environment: PATH, HOME, TMPDIR and what the test adds. */
export function terminalEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', TMPDIR: tmpdir(), ...env }
}

/** The flags every CLI test starts from: the example app (or `app`) on Celery 5.7, a solo worker unless told. */
export function exampleArgs(db: ExampleDatabase, app = 'app.celery_app', workerArgs = '--pool=solo'): string[] {
  return [
    '--app',
    app,
    '--working-directory',
    path.relative(REPO, EXAMPLE_APP),
    '--python',
    pythonFor('5.7'),
    '--expected-role',
    db.appRole,
    '--worker-args',
    workerArgs,
    '--timeout',
    '30'
  ]
}
