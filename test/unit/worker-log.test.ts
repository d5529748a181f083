import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SecretRegistry } from '../../src/secrets.js'
import { WorkerLog } from '../../src/celery/worker-log.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'worker-log-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

function logWith(secret: string): { log: WorkerLog; file: string } {
  const secrets = new SecretRegistry()
  secrets.add(secret)
  const file = path.join(dir, 'sub', 'worker.log')
  return { log: new WorkerLog(file, secrets), file }
}

describe('WorkerLog', () => {
  it('keeps, writes and hands on each line of a stream with secrets cut and CR dropped', async () => {
    const { log, file } = logWith('hunter2-secret')
    const heard: string[] = []
    log.onLine((line) => heard.push(line))
    const stream = new PassThrough()
    log.readStream(stream)
    stream.write('connected with hunter2-secret\r\nsec')
    stream.end('ond')
    await new Promise((r) => stream.on('end', r))
    expect(heard).toEqual(['connected with ***', 'second'])
    expect(log.lastLines()).toEqual(heard)
    await log.close()
    expect(readFileSync(file, 'utf8')).toBe('connected with ***\nsecond\n')
    expect(log.info()).toEqual({ file, bytes: Buffer.byteLength('connected with ***\nsecond\n'), truncated: false })
  })

  it('redacts on close a secret learned after its line was written, and keeps the file private', async () => {
    const secrets = new SecretRegistry()
    const file = path.join(dir, 'run', 'worker.log')
    const log = new WorkerLog(file, secrets)
    const stream = new PassThrough()
    log.readStream(stream)
    // The app prints its password while importing; the action learns it with the probe, later.
    stream.end('DEBUG pw is Tr1al-s3cret-pw\nready.\n')
    await new Promise((r) => stream.on('end', r))
    secrets.add('Tr1al-s3cret-pw')
    await log.close()
    expect(readFileSync(file, 'utf8')).toBe('DEBUG pw is ***\nready.\n')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700)
  })

  it('cuts a very long line and keeps only the recent lines', () => {
    const { log } = logWith('unused-secret-value')
    const lines = log.splitter()
    lines.push(`${'x'.repeat(20_000)}\n`)
    expect(log.lastLines(1)[0]).toMatch(/^x{16000} …\[line cut\]$/)
    for (let i = 0; i < 1000; i++) lines.push(`line ${i}\n`)
    expect(log.lastLines().length).toBeLessThanOrEqual(400)
    expect(log.lastLines(2)).toEqual(['line 998', 'line 999'])
    return log.close()
  })
})
