// The CLI's run folder (worker log, report.json, connections record) under the runs root: removed
// when the run ends, kept with --keep-files (the CLI says where). A real run of the example app on
// a real PostgreSQL and worker, from a terminal user's environment with its own TMPDIR.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exampleArgs, runCli } from '../support/cli.js'
import { exampleDatabase } from '../support/example.js'
import { TestPostgres } from '../support/postgres.js'

let pg: TestPostgres
let temp: string
beforeAll(async () => {
  pg = await TestPostgres.start()
  temp = mkdtempSync(path.join(tmpdir(), 'cfg-runs-'))
})
afterAll(async () => {
  await pg?.destroy()
  rmSync(temp, { recursive: true, force: true })
})

const runs = (): string[] => {
  const root = path.join(temp, 'celery-foundation-gates')
  return existsSync(root) ? readdirSync(root) : []
}

describe("the CLI's run folder", () => {
  it('is removed when the run ends; --keep-files keeps it and says where', async () => {
    const db = await exampleDatabase(pg)
    const removed = await runCli(exampleArgs(db), { DATABASE_URL: db.url, TMPDIR: temp })
    expect(removed.code, removed.stderr).toBe(0)
    expect(removed.stderr).not.toMatch(/^Report: /m)
    expect(runs()).toEqual([])

    const kept = await runCli([...exampleArgs(db), '--keep-files'], { DATABASE_URL: db.url, TMPDIR: temp })
    expect(kept.code, kept.stderr).toBe(0)
    const folder = /^Run folder kept: (\S+) \(worker log, report\.json\)$/m.exec(kept.stderr)?.[1] ?? ''
    expect(path.dirname(folder)).toBe(path.join(temp, 'celery-foundation-gates'))
    expect(readdirSync(folder).sort()).toEqual(expect.arrayContaining(['report.json', 'worker.log']))
    expect(kept.stderr).toContain(`Report: ${path.join(folder, 'report.json')}`)
  })
})
