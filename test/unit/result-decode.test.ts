import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeResult, describeStoredException } from '../../src/celery/result-decode.js'

const hex = (text: string): Buffer => Buffer.from(text, 'hex')

// pickle.dumps(value, protocol=5), as Celery 5.2 stores results through SQLAlchemy's PickleType.
const PICKLED_PONG = '80059508000000000000008c04706f6e67942e'
const PICKLED_DICT = '80059519000000000000007d94288c04706f6e6794888c046563686f948c02686994752e'

describe('decodeResult', () => {
  it("decodes a pickled 'pong' (Celery 5.2)", () => {
    expect(decodeResult(hex(PICKLED_PONG))).toEqual({ value: 'pong', encoding: 'pickle', display: "'pong'" })
  })

  it('decodes a pickled dict', () => {
    expect(decodeResult(hex(PICKLED_DICT))).toEqual({
      value: { pong: true, echo: 'hi' },
      encoding: 'pickle',
      display: '{"pong":true,"echo":"hi"}'
    })
  })

  it('decodes JSON bytes "pong" (Celery 5.7)', () => {
    expect(decodeResult(Buffer.from('"pong"'))).toEqual({ value: 'pong', encoding: 'json', display: "'pong'" })
  })

  it('decodes a JSON object', () => {
    expect(decodeResult(Buffer.from('{"pong": true, "n": [1, 2]}'))).toEqual({
      value: { pong: true, n: [1, 2] },
      encoding: 'json',
      display: '{"pong":true,"n":[1,2]}'
    })
  })

  it('shows bytes that are neither pickle nor JSON as their size and first 16 bytes', () => {
    const raw = Buffer.from([0xff, 0x00, 0xfe, ...Array.from({ length: 30 }, (_, i) => i)])
    expect(decodeResult(raw)).toEqual({ encoding: 'bytes', display: '33 bytes (ff00fe000102030405060708090a0b0c…)' })
  })

  it('refuses a pickle of a protocol Celery never writes, with the reason', () => {
    expect(decodeResult(hex('80ff'))).toEqual({
      encoding: 'undecodable',
      display: 'undecodable result (pickle: pickle protocol 255 is not one Celery writes (2 to 5)): 2 bytes (80ff…)'
    })
  })

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['empty', Buffer.alloc(0)]
  ])('reports no result for %s', (_name, raw) => {
    expect(decodeResult(raw)).toEqual({ encoding: 'none', display: '(no result)' })
  })

  it('cuts a long display to 200 characters', () => {
    const result = decodeResult(Buffer.from(JSON.stringify('x'.repeat(500))))
    expect(result.value).toBe('x'.repeat(500))
    expect(result.display).toHaveLength(200)
    expect(result.display).toBe(`'${'x'.repeat(198)}…`)
  })

  it('never runs what a malicious pickle asks for', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-pickle-'))
    try {
      const marker = path.join(dir, 'PWNED')
      // pickle.dumps of an object whose __reduce__ returns (os.system, (f'touch {marker}',)):
      // PROTO 5, FRAME, GLOBAL posix.system, the command, TUPLE1, REDUCE, STOP.
      const command = Buffer.from(`touch ${marker}`)
      const body = Buffer.concat([hex('8c05706f736978948c0673797374656d9493948c'), Buffer.from([command.length]), command, hex('94859452942e')])
      const frameLength = Buffer.alloc(8)
      frameLength.writeBigUInt64LE(BigInt(body.length))
      const raw = Buffer.concat([hex('800595'), frameLength, body])
      const result = decodeResult(raw)
      expect(result.encoding).toBe('pickle')
      // The call stays a record of what would have been called: a name and its arguments.
      expect(result.display).toBe(`posix.system(${JSON.stringify(`touch ${marker}`)})`)
      expect(existsSync(marker)).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('describeStoredException', () => {
  it('renders Type("message") from exc_type and exc_message', () => {
    expect(describeStoredException({ exc_type: 'KeyError', exc_message: 'tenant_id' })).toBe('KeyError("tenant_id")')
  })

  it('joins a list of exception arguments and escapes quotes', () => {
    expect(describeStoredException({ exc_type: 'TypeError', exc_message: ['bad "arg"', 2] })).toBe('TypeError("bad \\"arg\\", 2")')
  })

  it('renders a missing message as empty', () => {
    expect(describeStoredException({ exc_type: 'RuntimeError' })).toBe('RuntimeError("")')
  })

  it.each([
    ['null', null],
    ['a string', 'pong'],
    ['an object without exc_type', { exc_message: 'x' }],
    ['a non-string exc_type', { exc_type: 42, exc_message: 'x' }]
  ])('returns undefined for %s', (_name, value) => {
    expect(describeStoredException(value)).toBeUndefined()
  })
})
