import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { tailFile } from '../../src/celery/file-tail.js'

let dir: string
let stop: (() => void) | undefined
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'file-tail-'))
})
afterEach(() => {
  stop?.()
  stop = undefined
  rmSync(dir, { recursive: true, force: true })
})

function follow(file: string): { text: () => string } {
  let text = ''
  stop = tailFile(file, (chunk) => (text += chunk), 5)
  return { text: () => text }
}

const settled = { timeout: 5000, interval: 10 }

describe('tailFile', () => {
  it('hands on what is appended to the file, each byte once', async () => {
    const file = path.join(dir, 'out.log')
    writeFileSync(file, 'first\n')
    const tail = follow(file)
    await vi.waitFor(() => expect(tail.text()).toBe('first\n'), settled)
    appendFileSync(file, 'second\n')
    await vi.waitFor(() => expect(tail.text()).toBe('first\nsecond\n'), settled)
  })

  it('waits for a file that is not there yet', async () => {
    const file = path.join(dir, 'later.log')
    const tail = follow(file)
    writeFileSync(file, 'now here\n')
    await vi.waitFor(() => expect(tail.text()).toBe('now here\n'), settled)
  })

  it('holds a UTF-8 character cut between two writes until it is whole', async () => {
    const file = path.join(dir, 'utf8.log')
    const euro = Buffer.from('€', 'utf8') // three bytes
    writeFileSync(file, Buffer.concat([Buffer.from('price: '), euro.subarray(0, 1)]))
    const tail = follow(file)
    await vi.waitFor(() => expect(tail.text()).toBe('price: '), settled)
    appendFileSync(file, Buffer.concat([euro.subarray(1), Buffer.from('5\n')]))
    await vi.waitFor(() => expect(tail.text()).toBe('price: €5\n'), settled)
    expect(tail.text()).not.toContain('\uFFFD')
  })

  it('hands on nothing more once stopped', async () => {
    const file = path.join(dir, 'stopped.log')
    writeFileSync(file, 'before\n')
    const tail = follow(file)
    await vi.waitFor(() => expect(tail.text()).toBe('before\n'), settled)
    stop?.()
    appendFileSync(file, 'after\n')
    // A later follower of the same file sees the new line: the stopped one never does.
    let seen = ''
    const other = tailFile(file, (chunk) => (seen += chunk), 5)
    try {
      await vi.waitFor(() => expect(seen).toBe('before\nafter\n'), settled)
    } finally {
      other()
    }
    expect(tail.text()).toBe('before\n')
  })
})
