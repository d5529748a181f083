// Result rows written by someone else: anyone with INSERT on celery_taskmeta can write the row of
// the ping's task id. Each hostile value must end as an outcome (a value or `undecodable` with the
// reason) — the per-test timeout of vitest is the guard against the hang these bytes caused with
// the general pickle reader used before (pickleparser).
import { describe, expect, it } from 'vitest'
import { PyObject } from '../../src/celery/pickle-reader.js'
import { decodeResult, describeStoredException, MAX_RESULT_BYTES, render } from '../../src/celery/result-decode.js'

const hex = (text: string): Buffer => Buffer.from(text, 'hex')

/** Protocol 5 FRAME around `body` (its length counts everything after the frame header). */
function framed(body: number[]): Buffer {
  const length = Buffer.alloc(8)
  length.writeBigUInt64LE(BigInt(body.length))
  return Buffer.concat([hex('800595'), length, Buffer.from(body)])
}

/**
 * Byte for byte what Python writes for `a = leaf; for _ in range(levels): a = [a, a]` with
 * pickle.dumps(a, protocol=5): each list holds the one below twice, by memo reference. 44 levels
 * with a 7-character leaf are 286 bytes that stand for 2^44 leaves.
 */
function sharedLists(levels: number, leaf: string): Buffer {
  const leafBytes = Buffer.from(leaf)
  const body: number[] = []
  for (let i = 0; i < levels; i++) body.push(0x5d, 0x94, 0x28) // EMPTY_LIST, MEMOIZE, MARK
  body.push(0x8c, leafBytes.length, ...leafBytes, 0x94) // SHORT_BINUNICODE leaf, MEMOIZE
  // The list below is on the stack already (built inline); BINGET pushes it a second time.
  for (let i = levels; i >= 1; i--) body.push(0x68, i, 0x65) // BINGET, APPENDS
  body.push(0x2e)
  return framed(body)
}

describe('decodeResult on hostile rows', () => {
  it('refuses the 286-byte self-nesting pickle as expanding without end (it hung the step before)', () => {
    const raw = sharedLists(44, 'hahaha!')
    expect(raw.length).toBe(286)
    expect(decodeResult(raw)).toEqual({
      encoding: 'undecodable',
      display: `undecodable result (pickle: the value expands to more than 1048576 characters (parts shared by reference)): 286 bytes (${raw.subarray(0, 16).toString('hex')}…)`
    })
  })

  it('decodes a value that shares a part a few times, as Celery results may', () => {
    const result = decodeResult(sharedLists(3, 'pong'))
    expect(result.encoding).toBe('pickle')
    expect(result.display).toBe('[[["pong","pong"],["pong","pong"]],[["pong","pong"],["pong","pong"]]]')
  })

  it('refuses BINBYTES with a negative length (80 03 42 fb ff ff ff 61 62 63 2e) instead of allocating until it dies', () => {
    expect(decodeResult(hex('800342fbffffff6162632e'))).toEqual({
      encoding: 'undecodable',
      display: 'undecodable result (pickle: a length of 4294967291 at byte 7 runs past the end of the 11 bytes): 11 bytes (800342fbffffff6162632e…)'
    })
  })

  it('refuses a BINUNICODE8 length past 2^53', () => {
    expect(decodeResult(hex('80058dffffffffffffffff2e')).display).toMatch(/^undecodable result \(pickle: a length of \d+ at byte 11 runs past the end/)
  })

  it('refuses a list that contains itself', () => {
    // l = []; l.append(l); pickle.dumps(l, protocol=5)
    expect(decodeResult(hex('80059506000000000000005d946800612e')).display).toMatch(/^undecodable result \(pickle: the value contains itself\)/)
  })

  it('refuses a value nested past the depth limit without any MARK (one list in the next, by APPEND)', () => {
    // What pickle.dumps writes for [[[…]]] 1,000 levels deep: EMPTY_LIST MEMOIZE each, then APPEND each.
    const body = [...Array.from({ length: 1000 }, () => [0x5d, 0x94]).flat(), ...Array.from({ length: 999 }, () => 0x61), 0x2e]
    expect(decodeResult(framed(body)).display).toMatch(/^undecodable result \(pickle: the value is nested deeper than 100 levels\)/)
  })

  it('refuses MARKs nested past the depth limit', () => {
    const raw = Buffer.concat([hex('8005'), Buffer.alloc(5000, 0x28), hex('2e')])
    expect(decodeResult(raw).display).toMatch(/^undecodable result \(pickle: nested deeper than 100 levels\)/)
  })

  it('refuses more values than the object limit (a memo reference pushed again and again)', () => {
    // One list, then BINGET 0 + APPEND 200,000 times: 600 KiB of pickle, 200,000 values.
    const body = [0x5d, 0x94, ...Array.from({ length: 200_000 }, () => [0x68, 0x00, 0x61]).flat(), 0x2e]
    expect(decodeResult(framed(body)).display).toMatch(/^undecodable result \(pickle: more than 100000 values\)/)
  })

  it('refuses an integer of thousands of bytes', () => {
    const raw = Buffer.concat([hex('80058b'), Buffer.from([0x00, 0x10, 0, 0]), Buffer.alloc(4096, 0x7f), hex('2e')])
    expect(decodeResult(raw).display).toMatch(/^undecodable result \(pickle: an integer of 4096 bytes/)
  })

  it('refuses opcodes plain data does not need (persistent ids, extension registry, out-of-band buffers)', () => {
    for (const op of ['51', '82', '97', '98']) {
      expect(decodeResult(hex(`8005${op}2e`)).encoding, op).toBe('undecodable')
    }
  })

  it('refuses a value over the size the action reads, without parsing it', () => {
    const result = decodeResult(Buffer.from('"x"'), MAX_RESULT_BYTES + 1)
    expect(result.encoding).toBe('undecodable')
    expect(result.display).toContain(`${MAX_RESULT_BYTES + 1} bytes, over the 1 MiB the action reads`)
  })

  it('refuses JSON nested deeper than the limit before JSON.parse sees it', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`
    expect(decodeResult(Buffer.from(deep)).display).toMatch(/^undecodable result \(JSON nested deeper than 100 levels\)/)
  })

  it('counts brackets inside JSON strings as text', () => {
    const result = decodeResult(Buffer.from(JSON.stringify({ note: '['.repeat(500) })))
    expect(result.encoding).toBe('json')
  })

  it('keeps a `__proto__` key as data', () => {
    // {'__proto__': {'polluted': True}} pickled at protocol 5.
    const key = Buffer.from('__proto__')
    const inner = Buffer.from('polluted')
    const body = [0x7d, 0x94, 0x8c, key.length, ...key, 0x94, 0x7d, 0x94, 0x8c, inner.length, ...inner, 0x94, 0x88, 0x73, 0x73, 0x2e]
    const result = decodeResult(framed(body))
    expect(result.encoding).toBe('pickle')
    expect(Object.getPrototypeOf(result.value)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(result.display).toBe('{"__proto__":{"polluted":true}}')
  })

  it('describes an exception whose message shares one list 2^44 times within the budget', () => {
    // Built here (the decoder refuses it): the renderer is bounded on its own, for any value.
    let shared: unknown = 'x'
    for (let i = 0; i < 44; i++) shared = [shared, shared]
    const described = describeStoredException({ exc_type: 'KeyError', exc_message: [shared] })
    expect(described?.length).toBeLessThan(300)
    expect(described).toMatch(/^KeyError\("\[\[\[\[/)
  })

  it('renders a value that contains itself', () => {
    const list: unknown[] = [1]
    list.push(list)
    expect(render(list, 100)).toBe('[1,[…]]')
  })

  it('escapes control characters in a string result', () => {
    expect(decodeResult(Buffer.from(JSON.stringify('a\nb\u001b[31m'))).display).toBe("'a\\nb\\u001b[31m'")
  })
})

describe('the pickle subset Celery 5.2 stores', () => {
  it("decodes Celery's exception dict (result_serializer json), protocol 4", () => {
    const raw = hex(
      '8004954f000000000000007d94288c086578635f74797065948c084b65794572726f72948c0b6578635f6d657373616765948c0974656e616e745f69649485948c0a6578635f6d6f64756c65948c086275696c74696e7394752e'
    )
    const result = decodeResult(raw)
    expect(result.value).toEqual({ exc_type: 'KeyError', exc_message: ['tenant_id'], exc_module: 'builtins' })
    expect(describeStoredException(result.value)).toBe('KeyError("tenant_id")')
  })

  it.each([
    ['protocol 5', '80059529000000000000008c086275696c74696e73948c084b65794572726f729493948c0974656e616e745f696494859452942e'],
    ['protocol 2', '800263657863657074696f6e730a4b65794572726f720a7100580900000074656e616e745f696471018571025271032e']
  ])('keeps a pickled exception object (result_serializer pickle, %s) as an inert record', (_name, bytes) => {
    const result = decodeResult(hex(bytes))
    expect(result.encoding).toBe('pickle')
    expect(result.value).toBeInstanceOf(PyObject)
    expect(describeStoredException(result.value)).toBe('KeyError("tenant_id")')
  })

  it('decodes numbers, bytes, tuples, sets and text of protocol 3', () => {
    // pickle.dumps([1, -1, 2**40, -2**70, 1.5, None, True, b'ab', (1, 2, 3, 4), {1, 2}, 'é'], protocol=3)
    const raw = hex(
      '80035d7100284b014affffffff8a060000000000018a090000000000000000c0473ff80000000000004e88430261627101284b014b024b034b04747102636275696c74696e730a7365740a71035d7104284b014b02658571055271065802000000c3a97107652e'
    )
    const result = decodeResult(raw)
    expect(result.encoding).toBe('pickle')
    const value = result.value as unknown[]
    expect(value.slice(0, 8)).toEqual([1, -1, 2 ** 40, -(2n ** 70n), 1.5, null, true, Buffer.from('ab')])
    expect(value[8]).toEqual([1, 2, 3, 4])
    expect(value[10]).toBe('é')
    expect(result.display).toBe(`[1,-1,1099511627776,-1180591620717411303424,1.5,null,true,b'6162',[1,2,3,4],builtins.set([1,2]),"é"]`)
  })
})

describe('render', () => {
  it('stops at its budget on a wide value', () => {
    expect(
      render(
        Array.from({ length: 100_000 }, (_, i) => i),
        50
      )
    ).toHaveLength(50)
  })
})
