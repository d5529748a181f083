import { spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { descendants, environValue, isAlive, localPortsTo, parentOf, parseTcpTable } from '../../src/proc/process-tree.js'

// A /proc/net/tcp as Linux writes it: a header, a listener on 5432, a client connection from
// 59634 to it and the server's end of the same connection, a TIME_WAIT entry (inode 0), a blank
// last line.
const PROC_NET_TCP = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     ',
  '   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 31337 1 0000000000000000 100 0 0 10 0                     ',
  '   1: 0100007F:E8F2 0100007F:1538 01 00000000:00000000 00:00000000 00000000  1001        0 48211 1 0000000000000000 20 4 30 10 -1                    ',
  '   2: 0100007F:1538 0100007F:E8F2 01 00000000:00000000 00:00000000 00000000   999        0 48212 1 0000000000000000 20 4 31 10 -1                    ',
  '   3: 0100007F:BFE4 0100007F:1538 06 00000000:00000000 03:00000C12 00000000     0        0 0 3 00000000dcb67487                                      ',
  ''
].join('\n')

const PROC_NET_TCP6 = [
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 00000000000000000000000001000000:D2F0 00000000000000000000000001000000:1538 01 00000000:00000000 00:00000000 00000000  1001        0 48999 1 0000000000000000 20 4 30 10 -1'
].join('\n')

/** A pid no Linux process can have (above the largest possible pid_max, 2^22). */
const NO_SUCH_PID = 2 ** 22 + 1

describe('parseTcpTable', () => {
  it('reads ports from hex and keeps the inode, skipping the header', () => {
    expect(parseTcpTable(PROC_NET_TCP)).toEqual([
      { localPort: 5432, remotePort: 0, inode: '31337' },
      { localPort: 59634, remotePort: 5432, inode: '48211' },
      { localPort: 5432, remotePort: 59634, inode: '48212' },
      { localPort: 49124, remotePort: 5432, inode: '0' }
    ])
  })

  it('reads the IPv6 table', () => {
    expect(parseTcpTable(PROC_NET_TCP6)).toEqual([{ localPort: 54000, remotePort: 5432, inode: '48999' }])
  })

  it('returns nothing for an empty table, a header alone, or unreadable text', () => {
    expect(parseTcpTable('')).toEqual([])
    expect(parseTcpTable(PROC_NET_TCP.split('\n')[0] ?? '')).toEqual([])
    expect(parseTcpTable('header\nnot a table line\n1 2 3')).toEqual([])
  })
})

/** Polls until `check` returns a value other than undefined/false, for at most `ms`. */
async function waitFor<T>(check: () => T | undefined | false, ms = 1500): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const value = check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Spawns a child for the test body and kills it (and waits for its exit) afterwards. */
async function withChild(
  command: string,
  args: string[],
  env: Record<string, string>,
  body: (child: ChildProcess & { pid: number }) => Promise<void> | void
): Promise<void> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: 'ignore' })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    if (child.pid === undefined) throw new Error(`could not spawn ${command}`)
    await body(child as ChildProcess & { pid: number })
  } finally {
    child.kill('SIGKILL')
    await exited
  }
}

describe('process tree of the test process', () => {
  it('finds a spawned child among the descendants, with this process as its parent', async () => {
    await withChild('sleep', ['5'], {}, (child) => {
      const tree = descendants(process.pid)
      expect(tree[0]).toBe(process.pid)
      expect(tree).toContain(child.pid)
      expect(parentOf(child.pid)).toBe(process.pid)
      expect(isAlive(child.pid)).toBe(true)
    })
  })

  it('finds grandchildren, and sees a zombie as not alive', async () => {
    // The shell backgrounds `sleep 0` and then becomes `sleep 5`, which never reaps it.
    await withChild('sh', ['-c', 'sleep 0 & exec sleep 5'], {}, async (child) => {
      const zombie = await waitFor(() => {
        const [, grandchild] = descendants(child.pid)
        return grandchild !== undefined && !isAlive(grandchild) && grandchild
      })
      expect(descendants(process.pid)).toEqual(expect.arrayContaining([process.pid, child.pid, zombie]))
      expect(parentOf(zombie)).toBe(child.pid)
      expect(isAlive(child.pid)).toBe(true)
    })
  })

  it('reads state and parent of a process whose name contains ") Z 1 ("', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-proc-'))
    try {
      const oddName = path.join(dir, 'sl) Z 1 (p')
      copyFileSync('/bin/sleep', oddName)
      await withChild(oddName, ['5'], {}, (child) => {
        expect(isAlive(child.pid)).toBe(true)
        expect(parentOf(child.pid)).toBe(process.pid)
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('sees an exited child as not alive', async () => {
    let pid = 0
    await withChild('sleep', ['5'], {}, (child) => {
      pid = child.pid
    })
    expect(isAlive(pid)).toBe(false)
    expect(descendants(process.pid)).not.toContain(pid)
  })

  it('reads the parent of this process', () => {
    expect(parentOf(process.pid)).toBe(process.ppid)
  })

  it('reads one variable of a child environment', async () => {
    const env = { CFG_TEST_VAR: 'a=b c', CFG_TEST_VAR_LONGER: 'other' }
    await withChild('sleep', ['5'], env, async (child) => {
      expect(await waitFor(() => environValue(child.pid, 'CFG_TEST_VAR'))).toBe('a=b c')
      expect(environValue(child.pid, 'CFG_TEST_VAR_LONGER')).toBe('other')
      expect(environValue(child.pid, 'CFG_TEST_VA')).toBeUndefined()
      expect(environValue(child.pid, 'CFG_TEST_NOT_SET')).toBeUndefined()
    })
  })

  it('answers emptily for a process that does not exist', () => {
    expect(isAlive(NO_SUCH_PID)).toBe(false)
    expect(parentOf(NO_SUCH_PID)).toBeUndefined()
    expect(environValue(NO_SUCH_PID, 'PATH')).toBeUndefined()
    expect(descendants(NO_SUCH_PID)).toEqual([NO_SUCH_PID])
    expect(localPortsTo([NO_SUCH_PID], 5432)).toEqual([])
  })
})

/** Opens a real TCP connection inside this process and runs the body while both ends are open. */
async function withLocalConnection(body: (ports: { serverPort: number; clientPort: number }) => Promise<void> | void): Promise<void> {
  const server = net.createServer()
  const accepted: net.Socket[] = []
  server.on('connection', (socket) => accepted.push(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const serverPort = (server.address() as net.AddressInfo).port
  const client = net.connect(serverPort, '127.0.0.1')
  try {
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject))
    await waitFor(() => accepted.length > 0)
    await body({ serverPort, clientPort: client.localPort ?? 0 })
  } finally {
    client.destroy()
    for (const socket of accepted) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  }
}

describe('localPortsTo', () => {
  it('finds the local port of a real connection from this process to a server port', async () => {
    await withLocalConnection(({ serverPort, clientPort }) => {
      expect(clientPort).toBeGreaterThan(0)
      expect(localPortsTo([process.pid], serverPort)).toEqual([clientPort])
      // The server's end of the same connection, seen from the other side.
      expect(localPortsTo([process.pid], clientPort)).toEqual([serverPort])
      expect(localPortsTo([process.pid], 1)).toEqual([])
    })
  })

  it('does not attribute this process connection to a child, even one with sockets of its own', async () => {
    // The child shares this network namespace, so its /proc/<pid>/net/tcp lists our connection
    // too: only the socket inodes it holds may count.
    const listener = "require('net').createServer().listen(0, '127.0.0.1'); setTimeout(() => {}, 5000)"
    await withLocalConnection(async ({ serverPort }) => {
      await withChild(process.execPath, ['-e', listener], {}, async (child) => {
        await waitFor(() => localPortsTo([child.pid], 0).length > 0, 5000)
        expect(localPortsTo([child.pid], serverPort)).toEqual([])
        expect(localPortsTo([child.pid, process.pid], serverPort)).toHaveLength(1)
      })
    })
  })
})
