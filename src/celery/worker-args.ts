// The user's `worker-args` are split like a POSIX shell would split them (quotes, escapes), but
// never run through a shell: operators, globs and substitutions are rejected, not interpreted.
// The action then takes over the options that make a run its own (node name, queues) and merges
// those that Celery would otherwise let the last occurrence win (queues, includes).
import { parse } from 'shell-quote'
import { quoteGiven } from '../util/quote.js'

/** Short options of `celery worker` that take a value; the others (-D, -E, -B) are flags. */
const SHORT_WITH_VALUE = new Set(['n', 'S', 'l', 'O', 'c', 'P', 'Q', 'X', 'I', 's', 'f'])

export function splitWorkerArgs(input: string): string[] {
  if (!input.trim()) return []
  // Nothing is expanded, and a `$VAR` left as text would silently mean something else than in a
  // shell: refuse it instead (workflows have ${{ env.VAR }} for that).
  const variable = /\$(\{?[A-Za-z_]\w*\}?)/.exec(input)
  if (variable)
    throw new Error(
      `does not expand variables (found ${quoteGiven(variable[0])}; it is never run through a shell): write the value, or use \${{ env.NAME }} in the workflow`
    )
  // Any `$` left (e.g. `$1`) stays literal text.
  const tokens = parse(input, (name: string) => `$${name}`)
  const args: string[] = []
  for (const token of tokens) {
    if (typeof token === 'string') {
      args.push(...expandShortCluster(token))
      continue
    }
    const what = 'op' in token ? (token.op === 'glob' ? `glob ${(token as { pattern: string }).pattern}` : token.op) : 'a comment'
    throw new Error(`shell syntax is not supported (found ${quoteGiven(what)}); give plain worker options like --pool=solo --concurrency=2`)
  }
  for (const arg of args) {
    if (arg === '-D' || arg === '--detach') throw new Error('--detach (-D) is not supported: the action must own the worker process to stop it')
    if (/[\u0000-\u001f]/.test(arg)) throw new Error(`contains a control character in ${quoteGiven(arg)}`)
  }
  return args
}

/**
 * Splits a cluster of short options the way Celery's option parser (click) reads it:
 * `-ED` is `-E -D`, `-ElINFO` is `-E -l INFO`; a value-taking option ends the cluster.
 */
export function expandShortCluster(arg: string): string[] {
  if (!/^-[A-Za-z]{2,}/.test(arg)) return [arg]
  const out: string[] = []
  for (let i = 1; i < arg.length; i++) {
    const c = arg[i] as string
    out.push(`-${c}`)
    if (SHORT_WITH_VALUE.has(c)) {
      if (i + 1 < arg.length) out.push(arg.slice(i + 1))
      break
    }
  }
  return out
}

interface ManagedOption {
  short: string
  long: string
}
const QUEUES: ManagedOption = { short: '-Q', long: '--queues' }
const INCLUDE: ManagedOption = { short: '-I', long: '--include' }
const HOSTNAME: ManagedOption = { short: '-n', long: '--hostname' }
const LOGLEVEL: ManagedOption = { short: '-l', long: '--loglevel' }

/** Removes every occurrence of an option from args and returns the values it had. */
function takeOption(args: string[], opt: ManagedOption): { rest: string[]; values: string[] } {
  const rest: string[] = []
  const values: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string
    if (a === opt.short || a === opt.long) {
      const v = args[i + 1]
      if (v !== undefined) values.push(v)
      i++
    } else if (a.startsWith(`${opt.long}=`)) values.push(a.slice(opt.long.length + 1))
    else if (a.startsWith(opt.short) && a.length > 2 && !a.startsWith('--')) values.push(a.slice(2))
    else rest.push(a)
  }
  return { rest, values }
}

const commaList = (values: string[]): string[] =>
  values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean)

export interface WorkerCommand {
  /** Arguments after `celery -A <app> worker`. */
  argv: string[]
  /** The queues the booted worker consumes: the user's, if any, plus the run's own. */
  queues: string[]
  loglevel: string
  /** The user's own --hostname, which the run's node name replaced. */
  replacedHostname?: string
  /** Whether the user chose the queues (-Q); otherwise the app's decide (bootstrap.py). */
  userQueues: boolean
}

export function buildWorkerCommand(userArgs: string[], run: { nodeName: string; queue: string; includes: string[] }): WorkerCommand {
  let args = [...userArgs]
  const queues = takeOption(args, QUEUES)
  args = queues.rest
  const includes = takeOption(args, INCLUDE)
  args = includes.rest
  const hostname = takeOption(args, HOSTNAME)
  args = hostname.rest
  const loglevel = takeOption(args, LOGLEVEL)
  args = loglevel.rest

  const allQueues = [...commaList(queues.values), run.queue]
  const allIncludes = [...new Set([...commaList(includes.values), ...run.includes])]
  // INFO is where Celery prints `ready.`; a user's explicit level is respected.
  const level = loglevel.values.at(-1) ?? 'INFO'
  const argv = [...args, '--hostname', run.nodeName, '--queues', allQueues.join(','), '--loglevel', level]
  if (allIncludes.length) argv.push('--include', allIncludes.join(','))
  return { argv, queues: allQueues, loglevel: level, replacedHostname: hostname.values.at(-1), userQueues: queues.values.length > 0 }
}
