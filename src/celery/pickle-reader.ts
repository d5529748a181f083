// A small, bounded reader for the pickles a Celery result backend stores (protocol 2 to 5: what
// SQLAlchemy's PickleType writes for Celery 5.2's `result` column). Anyone with INSERT on that
// table can write the row the action reads, so the bytes are hostile until proven otherwise.
//
// Why our own reader and not a general one (pickleparser was used before): a general reader
// follows whatever the bytes say — a negative length made it loop and allocate until the process
// died, and it happily builds structures whose rendering never ends. This one knows only the
// opcodes that plain data needs, never calls anything (a class reference stays a name, a call
// stays an inert record), and stops with a reason at the first of: an unknown opcode, a length
// past the end of the input, or one of LIMITS. Every opcode costs O(1) apart from the ones that
// pop a marked run of items, and each item is popped once: time and memory are linear in the
// input, which the caller already capped.

/** A Python object the pickle would have built by calling something: kept as data, never called. */
export class PyObject {
  constructor(
    /** `module.qualname` of what the pickle asks to call (the class, for an exception). */
    readonly type: string,
    readonly args: unknown[],
    /** What BUILD would have set on it (usually a dict of attributes). */
    public state?: unknown
  ) {}
}

/** A class or function reference (GLOBAL / STACK_GLOBAL) that was never resolved. */
export class PyGlobal {
  constructor(readonly name: string) {}
}

export class UndecodablePickle extends Error {}

export const PICKLE_LIMITS = {
  /** Nested MARKs (a tuple in a list in a dict …, as the pickle builds them). */
  maxDepth: 100,
  /** Values pushed: every string, number, container and reference counts one. */
  maxObjects: 100_000,
  /** Memo entries. */
  maxMemo: 100_000,
  /** Bytes of all strings and byte strings together. */
  maxStringBytes: 1024 * 1024,
  /** Bytes of one integer (LONG1/LONG4): anything longer is not a result worth printing. */
  maxIntBytes: 64,
  /** Characters the value would take written out in full (shared parts counted each time). */
  maxExpanded: 1024 * 1024
} as const

type Item = unknown

export function readPickle(raw: Uint8Array): unknown {
  const value = new Reader(raw).run()
  checkShape(value)
  return value
}

/**
 * A pickle refers to a value it already built by memo index, so a few hundred bytes can stand
 * for a list that holds itself, or one list shared 2^44 times ([a, a] nested 44 levels deep).
 * Celery's own results are plain trees; such a value would hang or exhaust whoever expands it,
 * so it is refused here, with what it is. One pass over the distinct containers (each measured
 * once, memoised), recursion bounded by maxDepth.
 */
function checkShape(root: unknown): void {
  const sizes = new Map<object, number>()
  const open = new Set<object>()
  const measure = (value: unknown, depth: number): number => {
    if (typeof value === 'string') return value.length + 2
    if (Buffer.isBuffer(value)) return value.length + 3
    if (value === null || typeof value !== 'object') return 1
    const known = sizes.get(value)
    if (known !== undefined) return known
    if (open.has(value)) throw new UndecodablePickle('the value contains itself')
    if (depth >= PICKLE_LIMITS.maxDepth) throw new UndecodablePickle(`the value is nested deeper than ${PICKLE_LIMITS.maxDepth} levels`)
    open.add(value)
    let size = 2
    const children = value instanceof PyObject ? [...value.args, value.state] : Array.isArray(value) ? value : Object.values(value)
    for (const child of children) {
      size += measure(child, depth + 1) + 1
      if (size > PICKLE_LIMITS.maxExpanded)
        throw new UndecodablePickle(`the value expands to more than ${PICKLE_LIMITS.maxExpanded} characters (parts shared by reference)`)
    }
    if (!(value instanceof PyObject) && !Array.isArray(value)) size += Object.keys(value).reduce((n, k) => n + k.length + 3, 0)
    open.delete(value)
    sizes.set(value, size)
    return size
  }
  measure(root, 0)
}

class Reader {
  private pos = 0
  private readonly stack: Item[] = []
  /** Stack lengths at each open MARK. */
  private readonly marks: number[] = []
  private readonly memo = new Map<number, Item>()
  private objects = 0
  private stringBytes = 0
  private readonly view: DataView

  constructor(private readonly raw: Uint8Array) {
    this.view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
  }

  run(): unknown {
    if (this.raw[0] !== 0x80) throw new UndecodablePickle('not a pickle of protocol 2 or later')
    while (this.pos < this.raw.length) {
      const at = this.pos
      const op = this.u8()
      if (op === 0x2e /* STOP */) {
        if (this.stack.length !== 1 || this.marks.length) throw new UndecodablePickle(`STOP at byte ${at} with ${this.stack.length} values on the stack`)
        if (this.pos !== this.raw.length) throw new UndecodablePickle(`${this.raw.length - this.pos} bytes after STOP`)
        return this.stack[0]
      }
      this.step(op, at)
    }
    throw new UndecodablePickle('cut off: no STOP opcode')
  }

  private step(op: number, at: number): void {
    switch (op) {
      case 0x80: {
        const proto = this.u8()
        if (at !== 0 || proto < 2 || proto > 5) throw new UndecodablePickle(`pickle protocol ${proto} is not one Celery writes (2 to 5)`)
        return
      }
      case 0x95: // FRAME: a length hint for buffered readers; only its bounds matter here
        this.need(Number(this.u64()))
        return
      case 0x4e:
        return this.push(null) // NONE
      case 0x88:
        return this.push(true) // NEWTRUE
      case 0x89:
        return this.push(false) // NEWFALSE
      case 0x4b:
        return this.push(this.u8()) // BININT1
      case 0x4d:
        return this.push(this.u16()) // BININT2
      case 0x4a:
        return this.push(this.i32()) // BININT
      case 0x8a:
        return this.push(this.long(this.u8())) // LONG1
      case 0x8b:
        return this.push(this.long(this.u32())) // LONG4
      case 0x47: {
        // BINFLOAT
        this.need(8)
        const value = this.view.getFloat64(this.pos, false)
        this.pos += 8
        return this.push(value)
      }
      case 0x8c:
        return this.push(this.text(this.u8())) // SHORT_BINUNICODE
      case 0x58:
        return this.push(this.text(this.u32())) // BINUNICODE
      case 0x8d:
        return this.push(this.text(this.u64())) // BINUNICODE8
      case 0x55:
        return this.push(this.latin1(this.u8())) // SHORT_BINSTRING (Python 2 str)
      case 0x54:
        return this.push(this.latin1(this.u32())) // BINSTRING
      case 0x43:
        return this.push(this.bytes(this.u8())) // SHORT_BINBYTES
      case 0x42:
        return this.push(this.bytes(this.u32())) // BINBYTES
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        return this.push(this.bytes(this.u64()))
      case 0x29:
        return this.push([]) // EMPTY_TUPLE
      case 0x85:
        return this.push(this.pop(1)) // TUPLE1
      case 0x86:
        return this.push(this.pop(2)) // TUPLE2
      case 0x87:
        return this.push(this.pop(3)) // TUPLE3
      case 0x5d:
        return this.push([]) // EMPTY_LIST
      case 0x7d:
        return this.push({}) // EMPTY_DICT
      case 0x8f:
        return this.push([]) // EMPTY_SET (a set is shown as a list)
      case 0x28: // MARK
        if (this.marks.length >= PICKLE_LIMITS.maxDepth) throw new UndecodablePickle(`nested deeper than ${PICKLE_LIMITS.maxDepth} levels`)
        this.marks.push(this.stack.length)
        return
      case 0x74: // TUPLE
      case 0x6c: // LIST
      case 0x91: // FROZENSET
        return this.push(this.popMark())
      case 0x64:
        return this.push(toDict({}, this.popMark())) // DICT
      case 0x61: {
        // APPEND
        const item = this.pop(1)[0]
        this.listAt(op).push(item)
        return
      }
      case 0x65: // APPENDS
      case 0x90: {
        // ADDITEMS
        const items = this.popMark()
        const list = this.listAt(op)
        for (const item of items) list.push(item)
        return
      }
      case 0x73: {
        // SETITEM
        const pair = this.pop(2)
        toDict(this.dictAt(), pair)
        return
      }
      case 0x75: {
        // SETITEMS
        const items = this.popMark()
        toDict(this.dictAt(), items)
        return
      }
      case 0x94:
        return this.remember(this.memo.size) // MEMOIZE
      case 0x71:
        return this.remember(this.u8()) // BINPUT
      case 0x72:
        return this.remember(this.u32()) // LONG_BINPUT
      case 0x68:
        return this.recall(this.u8()) // BINGET
      case 0x6a:
        return this.recall(this.u32()) // LONG_BINGET
      case 0x30: // POP
        if (this.stack.length > (this.marks.at(-1) ?? 0)) this.stack.pop()
        else this.popMark()
        return
      case 0x31:
        this.popMark()
        return // POP_MARK
      case 0x32:
        return this.push(this.top()) // DUP
      case 0x63: {
        // GLOBAL: "module\nname\n"
        const module = this.line()
        return this.push(new PyGlobal(`${module}.${this.line()}`))
      }
      case 0x93: {
        // STACK_GLOBAL
        const [module, name] = this.pop(2)
        if (typeof module !== 'string' || typeof name !== 'string') throw new UndecodablePickle(`STACK_GLOBAL at byte ${at} without two names`)
        return this.push(new PyGlobal(`${module}.${name}`))
      }
      case 0x52: // REDUCE: callable(*args)
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const [callable, args] = this.pop(2)
        return this.push(new PyObject(nameOf(callable), Array.isArray(args) ? args : [args]))
      }
      case 0x92: {
        // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
        const [cls, args, kwargs] = this.pop(3)
        return this.push(new PyObject(nameOf(cls), Array.isArray(args) ? [...args, kwargs] : [args, kwargs]))
      }
      case 0x62: {
        // BUILD: obj.__setstate__(state)
        const state = this.pop(1)[0]
        const target = this.top()
        if (target instanceof PyObject) target.state = state
        return
      }
      default:
        throw new UndecodablePickle(`opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at} is not one plain result data needs`)
    }
  }

  private push(value: Item): void {
    if (++this.objects > PICKLE_LIMITS.maxObjects) throw new UndecodablePickle(`more than ${PICKLE_LIMITS.maxObjects} values`)
    this.stack.push(value)
  }

  /** The top `n` values, in order, from above the innermost MARK. */
  private pop(n: number): Item[] {
    const floor = this.marks.at(-1) ?? 0
    if (this.stack.length - floor < n) throw new UndecodablePickle(`stack underflow at byte ${this.pos - 1}`)
    return this.stack.splice(this.stack.length - n, n)
  }

  private popMark(): Item[] {
    const floor = this.marks.pop()
    if (floor === undefined) throw new UndecodablePickle(`no MARK to pop at byte ${this.pos - 1}`)
    return this.stack.splice(floor)
  }

  private top(): Item {
    if (this.stack.length <= (this.marks.at(-1) ?? 0)) throw new UndecodablePickle(`empty stack at byte ${this.pos - 1}`)
    return this.stack[this.stack.length - 1]
  }

  private listAt(op: number): Item[] {
    const list = this.top()
    if (!Array.isArray(list)) throw new UndecodablePickle(`opcode 0x${op.toString(16)} at byte ${this.pos - 1} needs a list`)
    return list
  }

  private dictAt(): Record<string, unknown> {
    const dict = this.top()
    if (!isDict(dict)) throw new UndecodablePickle(`SETITEM(S) at byte ${this.pos - 1} needs a dict`)
    return dict
  }

  private remember(index: number): void {
    if (this.memo.size >= PICKLE_LIMITS.maxMemo && !this.memo.has(index)) throw new UndecodablePickle(`more than ${PICKLE_LIMITS.maxMemo} memo entries`)
    this.memo.set(index, this.top())
  }

  private recall(index: number): void {
    if (!this.memo.has(index)) throw new UndecodablePickle(`memo entry ${index} was never stored`)
    this.push(this.memo.get(index))
  }

  private need(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.raw.length - this.pos)
      throw new UndecodablePickle(`a length of ${n} at byte ${this.pos} runs past the end of the ${this.raw.length} bytes`)
  }

  private u8(): number {
    this.need(1)
    return this.raw[this.pos++] as number
  }

  private u16(): number {
    this.need(2)
    const v = this.view.getUint16(this.pos, true)
    this.pos += 2
    return v
  }

  private u32(): number {
    this.need(4)
    const v = this.view.getUint32(this.pos, true)
    this.pos += 4
    return v
  }

  private i32(): number {
    this.need(4)
    const v = this.view.getInt32(this.pos, true)
    this.pos += 4
    return v
  }

  private u64(): number {
    this.need(8)
    const v = this.view.getBigUint64(this.pos, true)
    this.pos += 8
    // Anything past 2^53 is past the end of any input we accept; need() says so.
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v)
  }

  private slice(n: number): Uint8Array {
    this.need(n)
    this.stringBytes += n
    if (this.stringBytes > PICKLE_LIMITS.maxStringBytes) throw new UndecodablePickle(`strings over ${PICKLE_LIMITS.maxStringBytes} bytes in all`)
    const bytes = this.raw.subarray(this.pos, this.pos + n)
    this.pos += n
    return bytes
  }

  private text(n: number): string {
    return Buffer.from(this.slice(n)).toString('utf8')
  }

  private latin1(n: number): string {
    return Buffer.from(this.slice(n)).toString('latin1')
  }

  private bytes(n: number): Buffer {
    return Buffer.from(this.slice(n))
  }

  private line(): string {
    const end = this.raw.indexOf(0x0a, this.pos)
    if (end < 0 || end - this.pos > 256) throw new UndecodablePickle(`GLOBAL at byte ${this.pos - 1} without a short name line`)
    return this.latin1(end - this.pos + 1).slice(0, -1)
  }

  /** Little-endian two's complement, as Python's LONG1/LONG4 store it. */
  private long(n: number): number | bigint {
    if (n > PICKLE_LIMITS.maxIntBytes) throw new UndecodablePickle(`an integer of ${n} bytes (more than ${PICKLE_LIMITS.maxIntBytes})`)
    this.need(n)
    let value = 0n
    for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(this.raw[this.pos + i] as number)
    if (n > 0 && ((this.raw[this.pos + n - 1] as number) & 0x80) !== 0) value -= 1n << BigInt(8 * n)
    this.pos += n
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value
  }
}

function isDict(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof PyObject) &&
    !(value instanceof PyGlobal) &&
    !Buffer.isBuffer(value)
  )
}

/** Sets key/value pairs as own properties (a key `__proto__` stays data, never a prototype). */
function toDict(dict: Record<string, unknown>, items: unknown[]): Record<string, unknown> {
  if (items.length % 2 !== 0) throw new UndecodablePickle('a dict with an odd number of keys and values')
  for (let i = 0; i < items.length; i += 2) {
    const key = items[i]
    const name =
      typeof key === 'string'
        ? key
        : typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean' || key === null
          ? String(key)
          : `<key ${i / 2}>`
    Object.defineProperty(dict, name, { value: items[i + 1], enumerable: true, writable: true, configurable: true })
  }
  return dict
}

function nameOf(callable: unknown): string {
  return callable instanceof PyGlobal ? callable.name : '?'
}
