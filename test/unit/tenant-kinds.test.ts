// tenant-isolation's random tenant is a value of the tenant column's type (src/gates/tenant-isolation.ts):
// integers get a negative number within the type's range, uuids a uuid, text a random string, and
// any other type is said not to be checked.
import { describe, expect, it } from 'vitest'
import { randomTenant, tenantKindOf } from '../../src/gates/tenant-isolation.js'

describe('tenantKindOf', () => {
  it('knows integers with their range, uuids and text types', () => {
    expect(tenantKindOf('smallint')).toEqual({ kind: 'integer', max: 32767 })
    expect(tenantKindOf('integer')).toEqual({ kind: 'integer', max: 2147483647 })
    expect(tenantKindOf('bigint')).toEqual({ kind: 'integer', max: Number.MAX_SAFE_INTEGER })
    expect(tenantKindOf('uuid')).toEqual({ kind: 'uuid' })
    for (const t of ['text', 'character varying', 'bpchar', 'character', 'citext', 'public.citext', 'name']) expect(tenantKindOf(t)).toEqual({ kind: 'text' })
  })

  it('says what it does not know, and assumes a uuid without a tenant_id column', () => {
    expect(tenantKindOf('numeric')).toEqual({ kind: 'other', type: 'numeric' })
    expect(tenantKindOf('jsonb')).toEqual({ kind: 'other', type: 'jsonb' })
    expect(tenantKindOf('toString')).toEqual({ kind: 'other', type: 'toString' })
    expect(tenantKindOf(null)).toEqual({ kind: 'uuid' })
  })
})

describe('randomTenant', () => {
  it('is a negative integer within the range of the type', () => {
    for (let i = 0; i < 200; i++) {
      const small = Number(randomTenant({ kind: 'integer', max: 32767 }))
      expect(Number.isInteger(small) && small < 0 && small >= -32767).toBe(true)
      const big = Number(randomTenant({ kind: 'integer', max: Number.MAX_SAFE_INTEGER }))
      expect(Number.isSafeInteger(big) && big < 0).toBe(true)
    }
  })

  it('is a uuid for uuid columns and a random string for text ones', () => {
    expect(randomTenant({ kind: 'uuid' })).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    const a = randomTenant({ kind: 'text' })
    expect(a).toMatch(/^cfg-stranger-[0-9a-f]{12}$/)
    expect(randomTenant({ kind: 'text' })).not.toBe(a)
  })
})
