// What rls-role says about owners (src/gates/rls-role.ts ownershipFindings), from ownership rows
// as src/db/catalog.ts ownedTables returns them: a tenant table fails per table with a fix
// PostgreSQL accepts; the broker/result tables are one note per role, never a failure.
import { describe, expect, it } from 'vitest'
import type { OwnedTable } from '../../src/db/catalog.js'
import { ownershipFindings } from '../../src/gates/rls-role.js'

const row = (over: Partial<OwnedTable>): OwnedTable => ({
  role: 'app_user',
  table: 'public.invoices',
  sqlName: '"public"."invoices"',
  owner: 'app_user',
  direct: true,
  ...over
})

describe('ownershipFindings', () => {
  it('fails a tenant table the role owns, with ALTER TABLE … OWNER TO a quoted placeholder it explains', () => {
    const { problems, notes } = ownershipFindings([row({})], new Set(['public.invoices']))
    expect(notes).toEqual([])
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^app_user owns tenant table public\.invoices: an owner can ALTER TABLE … NO FORCE or DISABLE ROW LEVEL SECURITY/)
    expect(problems[0]).toContain(
      'ALTER TABLE "public"."invoices" OWNER TO "<migration role>" (replace "<migration role>" with the role that runs your migrations'
    )
    expect(problems[0]).not.toContain('REVOKE')
  })

  it('fails a tenant table owned by a role the worker role is a member of, naming the owner and both fixes', () => {
    const { problems } = ownershipFindings(
      [row({ owner: 'Owner Role', direct: false, table: 'billing."Weird"', sqlName: '"billing"."Weird"' })],
      new Set(['billing."Weird"'])
    )
    expect(problems[0]).toMatch(/^app_user is a member of Owner Role, the owner of tenant table billing\."Weird" \(it can SET ROLE Owner Role\)/)
    expect(problems[0]).toContain('ALTER TABLE "billing"."Weird" OWNER TO "<migration role>"')
    expect(problems[0]).toMatch(/or REVOKE "Owner Role" FROM "app_user"$/)
  })

  it('notes the broker/result tables once per role, with why, and does not fail them', () => {
    const plane = ['public.kombu_queue', 'public.kombu_message', 'public.celery_taskmeta'].map((table) => row({ table, sqlName: table }))
    const { problems, notes } = ownershipFindings(plane, new Set(['public.invoices']))
    expect(problems).toEqual([])
    expect(notes).toHaveLength(1)
    expect(notes[0]).toMatch(
      /^⚠️ app_user owns the broker\/result tables public\.kombu_queue, public\.kombu_message, public\.celery_taskmeta: an owner can DROP, TRUNCATE or ALTER them/
    )
    expect(notes[0]).toContain('not a failure')
  })

  it('says when the broker tables are reached through membership', () => {
    const { notes } = ownershipFindings([row({ table: 'public.kombu_message', owner: 'gate_owner', direct: false })], new Set())
    expect(notes[0]).toMatch(/^⚠️ app_user may act as the owner \(member of gate_owner\) of the broker\/result tables public\.kombu_message/)
  })
})
