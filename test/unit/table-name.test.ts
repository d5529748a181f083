// A tenant-tables entry that cannot name a table is a finding about that entry; suggested SQL
// quotes every identifier. The accepted names are checked against PostgreSQL in the integration
// test (test/integration/trust-sizes.test.ts); here, the rules themselves.
import { describe, expect, it } from 'vitest'
import { malformedEntryFinding, tableNameProblem } from '../../src/db/table-name.js'
import { qualified, quoteIdent, quoteLiteral, quoteSettingName } from '../../src/util/quote.js'

describe('tableNameProblem', () => {
  it.each([
    'invoices',
    'public.invoices',
    'public."Weird-Table"',
    '"Weird.Table"',
    '"say ""hi"""',
    ' public . invoices ',
    'Invoices',
    'my-table',
    'schéma.tâble'
  ])('accepts %s', (name) => {
    expect(tableNameProblem(name)).toBeUndefined()
  })

  it.each([
    ['a.b.c.d', 'it has 4 dotted parts'],
    ['db.public.invoices', 'it has 3 dotted parts'],
    ['""', 'it has an empty quoted name ("")'],
    ['public.""', 'it has an empty quoted name ("")'],
    ['"open', 'it has an unclosed double quote'],
    ['public."Weird', 'it has an unclosed double quote'],
    ['a..b', 'it has an empty part (two dots, or a dot at an end)'],
    ['.a', 'it has an empty part (two dots, or a dot at an end)'],
    ['a.', 'it has an empty part (two dots, or a dot at an end)'],
    ['', 'it is empty'],
    ['my table', 'it has "table" after a name (a space inside a name needs double quotes)'],
    ['"a"b', 'it has "b" after a name (a space inside a name needs double quotes)']
  ])('refuses %s: %s', (name, problem) => {
    expect(tableNameProblem(name)).toBe(problem)
  })

  it('words the finding as rls-role and tenant-isolation show it', () => {
    expect(malformedEntryFinding('a.b.c.d', 'it has 4 dotted parts')).toBe(
      'entry `a.b.c.d` is not a table name: it has 4 dotted parts (expected table or schema.table, quoted if needed); skipped'
    )
    expect(malformedEntryFinding('a`b.c.d.e', 'x')).toMatch(/^entry "a`b\.c\.d\.e" is not a table name/)
  })
})

describe('SQL quoting', () => {
  it('quotes every identifier, doubling quotes', () => {
    expect(quoteIdent('App-User')).toBe('"App-User"')
    expect(quoteIdent('app_user')).toBe('"app_user"')
    expect(quoteIdent('a"b')).toBe('"a""b"')
    expect(qualified('Weird-Table', 'public')).toBe('"public"."Weird-Table"')
    expect(qualified('invoices')).toBe('"invoices"')
  })

  it('quotes literals and setting names', () => {
    expect(quoteLiteral("it's")).toBe("'it''s'")
    expect(quoteSettingName('app.current_tenant_id')).toBe('"app"."current_tenant_id"')
  })
})
