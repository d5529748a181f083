// examples/tenant-app/sql/app-objects.sql is the app's part of setup.sql (the tenant table, its
// policy, the dead-letter table, their grants and seed rows) for a database whose Celery part came
// from the `sql` command. Each of its statements must stay one of setup.sql's, word for word.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const SQL_DIR = path.resolve(import.meta.dirname, '..', '..', 'examples', 'tenant-app', 'sql')

/** Statements without comments, whitespace collapsed. */
function statements(file: string): string[] {
  const text = readFileSync(path.join(SQL_DIR, file), 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
  return text
    .split(';')
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
}

describe('app-objects.sql', () => {
  it("holds only setup.sql's statements (besides its own SET ROLE / RESET ROLE)", () => {
    const setup = new Set(statements('setup.sql'))
    const own = statements('app-objects.sql')
    expect(own.length).toBeGreaterThan(10)
    expect(own.filter((s) => !setup.has(s))).toEqual([])
  })

  it('creates the tenant table with its policy and the dead-letter table', () => {
    const own = statements('app-objects.sql').join('\n')
    expect(own).toMatch(/CREATE TABLE IF NOT EXISTS invoices/)
    expect(own).toMatch(/CREATE POLICY tenant_isolation ON invoices/)
    expect(own).toMatch(/CREATE TABLE IF NOT EXISTS worker_failed_jobs/)
  })
})
