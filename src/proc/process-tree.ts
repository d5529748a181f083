// Which database sessions belong to the worker, read from the operating system rather than from
// the worker's word: the worker's process tree (/proc/<pid>/task/*/children), the TCP sockets its
// processes hold (/proc/<pid>/fd → socket:[inode]) and the local ports of those sockets
// (/proc/<pid>/net/tcp{,6}). PostgreSQL shows the same port as pg_stat_activity.client_port.
// Linux only; elsewhere (or without permission) every function returns an empty answer.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'

export function descendants(rootPid: number): number[] {
  const seen = new Set<number>()
  const queue = [rootPid]
  while (queue.length) {
    const pid = queue.shift() as number
    if (seen.has(pid)) continue
    seen.add(pid)
    for (const child of childrenOf(pid)) queue.push(child)
  }
  return [...seen]
}

function childrenOf(pid: number): number[] {
  const out: number[] = []
  for (const tid of list(`/proc/${pid}/task`)) {
    const text = read(`/proc/${pid}/task/${tid}/children`)
    for (const c of text.split(/\s+/)) if (c) out.push(Number(c))
  }
  return out
}

export function isAlive(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`)
  if (!stat) return false
  // Field 3 (after the parenthesised command) is the state; Z is a zombie.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
  return state !== 'Z' && state !== 'X'
}

export function parentOf(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`)
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ppid = Number(fields[1])
  return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined
}

/** The process group of `pid` (field 5 of /proc/<pid>/stat), if it can be read. */
export function processGroupOf(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`)
  if (!stat) return undefined
  const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])
  return Number.isInteger(group) ? group : undefined
}

/** Local TCP ports of connections from the given processes to `remotePort`. */
export function localPortsTo(pids: number[], remotePort: number): number[] {
  const ports = new Set<number>()
  for (const pid of pids) {
    const inodes = socketInodes(pid)
    if (!inodes.size) continue
    for (const table of ['tcp', 'tcp6']) {
      for (const entry of parseTcpTable(read(`/proc/${pid}/net/${table}`))) {
        if (entry.remotePort === remotePort && inodes.has(entry.inode)) ports.add(entry.localPort)
      }
    }
  }
  return [...ports]
}

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>()
  for (const fd of list(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (m) inodes.add(m[1] as string)
    } catch {
      // fd closed while we looked.
    }
  }
  return inodes
}

export interface TcpEntry {
  localPort: number
  remotePort: number
  inode: string
}

/** Parses /proc/net/tcp{,6}: `sl local_address rem_address st … uid timeout inode`. */
export function parseTcpTable(text: string): TcpEntry[] {
  const out: TcpEntry[] = []
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 10) continue
    const local = f[1]?.split(':')[1]
    const remote = f[2]?.split(':')[1]
    if (!local || !remote) continue
    out.push({ localPort: parseInt(local, 16), remotePort: parseInt(remote, 16), inode: f[9] as string })
  }
  return out
}

/** The value of one variable in a process's environment (same user only). */
export function environValue(pid: number, name: string): string | undefined {
  const env = read(`/proc/${pid}/environ`)
  for (const entry of env.split('\0')) if (entry.startsWith(`${name}=`)) return entry.slice(name.length + 1)
  return undefined
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}
