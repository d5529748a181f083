import { describe, expect, it } from 'vitest'
import { LineSplitter } from '../../src/celery/line-splitter.js'

function collect(maxPending = 1000): { lines: string[]; splitter: LineSplitter } {
  const lines: string[] = []
  return { lines, splitter: new LineSplitter((line) => lines.push(line), maxPending) }
}

describe('LineSplitter', () => {
  it('hands on each complete line, whatever the chunks', () => {
    const { lines, splitter } = collect()
    splitter.push('one\ntw')
    expect(lines).toEqual(['one'])
    splitter.push('o\n\nthr')
    splitter.push('ee\nfour')
    expect(lines).toEqual(['one', 'two', '', 'three'])
  })

  it('keeps a last line without newline until flushed, and flushes it once', () => {
    const { lines, splitter } = collect()
    splitter.push('partial')
    expect(lines).toEqual([])
    splitter.flush()
    splitter.flush()
    expect(lines).toEqual(['partial'])
  })

  it('leaves carriage returns to the consumer', () => {
    const { lines, splitter } = collect()
    splitter.push('a\r\nb\r\n')
    expect(lines).toEqual(['a\r', 'b\r'])
  })

  it('hands on a runaway line in pieces instead of holding it without bound', () => {
    const { lines, splitter } = collect(10)
    splitter.push('x'.repeat(8))
    expect(lines).toEqual([])
    splitter.push('x'.repeat(8))
    expect(lines).toEqual(['x'.repeat(16)])
    splitter.push('tail\n')
    expect(lines).toEqual(['x'.repeat(16), 'tail'])
  })
})
