// Lists and texts that grow with the input are bounded where they are built and say what they
// left out; the sinks bound again under GitHub's limits (outputs, annotations).
import { describe, expect, it } from 'vitest'
import {
  ANNOTATION_MESSAGE_MAX_CHARS,
  annotationMessage,
  boundedJsonArray,
  boundGateText,
  DETAILS_MAX_CHARS,
  EVIDENCE_MAX_CHARS,
  gatesOutput,
  githubSize
} from '../../src/report/limits.js'
import { boundText, linesWithMore, listWithMore, moreNotice } from '../../src/util/bounded.js'

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `public.tenant_t${String(i + 1).padStart(5, '0')}`)

describe('listWithMore', () => {
  it('joins a short list as it is', () => {
    expect(listWithMore(['a', 'b', 'c'], { max: 3 })).toBe('a, b, c')
  })

  it('shows the first items and says how many more, and where they are', () => {
    const text = listWithMore(names(10_000), { max: 10, noun: ['table', 'tables'], where: 'see the report' })
    expect(text).toMatch(/^public\.tenant_t00001, .*public\.tenant_t00010 … and 9,990 more tables \(see the report\)$/)
    expect(text.length).toBeLessThan(400)
  })

  it('uses the singular for one more', () => {
    expect(listWithMore(['a', 'b', 'c'], { max: 2, noun: ['table', 'tables'] })).toBe('a, b … and 1 more table')
  })

  it('shows at least one item', () => {
    expect(listWithMore(['a', 'b'], { max: 0 })).toBe('a … and 1 more item')
  })
})

describe('linesWithMore', () => {
  it('keeps the first lines and adds one that counts the rest', () => {
    const lines = linesWithMore(names(25), { max: 10, noun: ['problem', 'problems'], where: "see the gate's details" })
    expect(lines).toHaveLength(11)
    expect(lines[10]).toBe("… and 15 more problems (see the gate's details)")
    expect(linesWithMore(['x', 'y'], { max: 10 })).toEqual(['x', 'y'])
  })

  it('counts lines by default', () => {
    expect(moreNotice(2)).toBe('… and 2 more items')
    expect(linesWithMore(['a', 'b', 'c'], { max: 1 })[1]).toBe('… and 2 more lines')
  })
})

describe('boundText', () => {
  it('leaves a text that fits alone', () => {
    expect(boundText('short', 10)).toBe('short')
  })

  it('cuts after a whole line and says how many lines and characters are left out', () => {
    const text = names(10_000).join('\n')
    const cut = boundText(text, 1_000, 'see the report')
    expect(cut.length).toBeLessThanOrEqual(1_000)
    const last = cut.split('\n').at(-1) as string
    expect(last).toMatch(/^… cut: 9,9\d\d more lines \([\d,]+ characters; see the report\)$/)
    // Every kept line is whole.
    for (const line of cut.split('\n').slice(0, -1)) expect(line).toMatch(/^public\.tenant_t\d{5}$/)
    const kept = cut.split('\n').length - 1
    expect(last).toContain(`${(10_000 - kept).toLocaleString('en-US')} more lines`)
  })

  it('cuts inside one huge line', () => {
    const cut = boundText('x'.repeat(5_000_000), 4_000)
    expect(cut.length).toBeLessThanOrEqual(4_000)
    expect(cut).toMatch(/^x+\n… cut: 1 more line \([\d,]+ characters\)$/)
  })

  it('never splits a surrogate pair', () => {
    const text = '😀'.repeat(5_000)
    for (const max of [500, 501, 502, 503]) {
      const cut = boundText(text, max)
      expect(cut.length).toBeLessThanOrEqual(max)
      expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/)
    }
  })

  it('gives at least the notice, cut to fit, for a tiny bound', () => {
    expect(boundText('abcdefghij'.repeat(10), 12).length).toBeLessThanOrEqual(12)
  })
})

describe('GitHub limits at the sinks', () => {
  it('measures outputs as GitHub does: 2 bytes a UTF-16 unit, or the UTF-8 bytes when more', () => {
    expect(githubSize('abc')).toBe(6)
    expect(githubSize('日本')).toBe(6)
    expect(githubSize('😀')).toBe(4)
  })

  it('cuts an annotation under the runner’s 4,096 characters and says so', () => {
    const message = annotationMessage(
      names(10_000)
        .map((n) => `${n}: RLS is enabled but not forced`)
        .join('\n')
    )
    expect(message.length).toBeLessThanOrEqual(ANNOTATION_MESSAGE_MAX_CHARS)
    expect(message).toMatch(/… cut: [\d,]+ more lines \([\d,]+ characters; the job summary and the report have all of it\)$/)
    expect(annotationMessage('short')).toBe('short')
  })

  it('keeps the gates output under its budget, cutting the longest evidence', () => {
    const huge = names(10_000).join('\n')
    const gates = [
      { id: 'rls-role', title: 'RLS/Role', status: 'fail', evidence: huge },
      { id: 'tenant-isolation', title: 'Tenant isolation', status: 'warn', evidence: huge },
      { id: 'import', title: 'Import', status: 'pass', evidence: 'imported in 0.2 s' }
    ]
    const json = gatesOutput(gates, 20_000)
    expect(githubSize(json)).toBeLessThanOrEqual(20_000)
    const parsed = JSON.parse(json) as Array<{ id: string; evidence: string }>
    expect(parsed.map((g) => g.id)).toEqual(['rls-role', 'tenant-isolation', 'import'])
    expect(parsed[0]?.evidence).toMatch(/… cut: [\d,]+ more lines \([\d,]+ characters; see the report\)$/)
    expect(parsed[2]?.evidence).toBe('imported in 0.2 s')
  })

  it('keeps whole taxonomy entries under a budget in GitHub’s measure', () => {
    const items = Array.from({ length: 1_000 }, (_, i) => ({ test: `t${i}`, category: 'harness' }))
    const { json, kept, omitted } = boundedJsonArray(items, 5_000)
    expect(githubSize(json)).toBeLessThanOrEqual(5_000)
    expect(kept + omitted).toBe(1_000)
    expect(JSON.parse(json)).toHaveLength(kept)
  })

  it('bounds a gate’s evidence and moves its whole text to the details', () => {
    const evidence = names(10_000).join('\n')
    const bounded = boundGateText(evidence, 'pid 1 app')
    expect(bounded.evidence.length).toBeLessThanOrEqual(EVIDENCE_MAX_CHARS)
    expect(bounded.evidence).toMatch(/the details have all of it\)$/)
    expect(bounded.details).toContain('public.tenant_t10000')
    expect(bounded.details).toMatch(/pid 1 app$/)
    expect(boundGateText('fine', undefined)).toEqual({ evidence: 'fine' })
    expect(boundGateText('x'.repeat(10), 'y'.repeat(DETAILS_MAX_CHARS + 10)).details?.length).toBeLessThanOrEqual(DETAILS_MAX_CHARS)
  })
})
