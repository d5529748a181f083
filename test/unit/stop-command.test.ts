// The command the CLI prints to stop a kept worker: SIGTERM to the main process, the whole group
// killed only if it lingers. Run here by a real shell on real processes (no worker needed: a
// process that ignores SIGTERM stands for one that lingers). The groups themselves are started with
// node:child_process: `detached` and signals to a group, which execa does not offer.
import { spawn, type ChildProcess } from 'node:child_process'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { stopCommand } from '../../src/cli/stop-command.js'

/** A detached process group: `sh` whose child sleeps; `trapTerm` makes the shell ignore SIGTERM. */
function group(trapTerm: boolean): ChildProcess {
  const script = trapTerm ? "trap '' TERM; sleep 60 & wait; sleep 60" : 'sleep 60 & wait'
  return spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' })
}

/**
 * Runs the command as a user would paste it. Asynchronously: this process must stay free to reap
 * its own children meanwhile (a zombie still counts as a member of its group), as init does for a
 * worker whose CLI has exited.
 */
async function runLine(line: string): Promise<{ status: number | null; stderr: string }> {
  const sh = await execa('sh', ['-c', line], {
    stdin: 'ignore',
    stdout: 'ignore',
    stripFinalNewline: false,
    timeout: 20_000,
    killSignal: 'SIGKILL',
    reject: false
  })
  return { status: sh.exitCode ?? null, stderr: sh.stderr }
}

/** Resolves once `child` exited and was reaped (a zombie still counts as a member of its group). */
const reaped = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()))

const groupAlive = (pid: number): boolean => {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

describe('stopCommand', () => {
  it('signals the main process only, not the group, with SIGTERM', () => {
    const line = stopCommand(4242)
    expect(line).toMatch(/^sh -c 'kill -TERM 4242; /)
    expect(line).not.toContain('kill -TERM -')
    expect(line).toContain('kill -KILL -4242')
    expect(() => stopCommand(1)).toThrow()
  })

  it('kills the group, and says so, when it is still there after the bound', async () => {
    const child = group(true)
    const pid = child.pid as number
    await new Promise((r) => setTimeout(r, 200))
    try {
      const run = await runLine(stopCommand(pid, 1))
      expect(run.stderr).toContain(`killing process group ${pid}`)
      await reaped(child)
      // The sleeping grandchild was killed with its group (init reaps it).
      const until = Date.now() + 5000
      while (groupAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
      expect(groupAlive(pid)).toBe(false)
    } finally {
      if (groupAlive(pid)) process.kill(-pid, 'SIGKILL')
    }
  })

  it('ends without SIGKILL when the main process stops its children on SIGTERM', async () => {
    // sh passes TERM on to its child and exits: the warm-shutdown shape.
    const child = spawn('sh', ['-c', "trap 'kill $c; wait $c; exit 0' TERM; sleep 60 & c=$!; wait"], { detached: true, stdio: 'ignore' })
    const pid = child.pid as number
    await new Promise((r) => setTimeout(r, 200))
    try {
      const run = await runLine(stopCommand(pid, 10))
      expect(run.status).toBe(0)
      expect(run.stderr).toBe('')
      await reaped(child)
      expect(child.signalCode).toBeNull()
      expect(groupAlive(pid)).toBe(false)
    } finally {
      if (groupAlive(pid)) process.kill(-pid, 'SIGKILL')
    }
  })
})
