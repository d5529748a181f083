import { describe, expect, it } from 'vitest'
import { buildWorkerCommand, splitWorkerArgs } from '../../src/celery/worker-args.js'

const SHELL_SYNTAX = 'shell syntax is not supported'

describe('splitWorkerArgs', () => {
  it('splits plain options on whitespace', () => {
    expect(splitWorkerArgs('--pool=solo  --concurrency 2\t-Ofair')).toEqual(['--pool=solo', '--concurrency', '2', '-O', 'fair'])
  })

  it('returns nothing for blank input', () => {
    expect(splitWorkerArgs('')).toEqual([])
    expect(splitWorkerArgs('  \n ')).toEqual([])
  })

  it('honours double quotes, single quotes and backslash escapes', () => {
    expect(splitWorkerArgs(`-Q "high prio" 'low prio' mid\\ prio --x="a'b" --y='a"b'`)).toEqual([
      '-Q',
      'high prio',
      'low prio',
      'mid prio',
      "--x=a'b",
      '--y=a"b'
    ])
  })

  it.each(['--logfile=$HOME/worker.log', '-n ${NODE}', "'$HOME'"])('refuses to leave %j unexpanded or expand it', (input) => {
    expect(() => splitWorkerArgs(input)).toThrow(/^does not expand variables \(found "\$\{?[A-Z]+\}?"; it is never run through a shell\)/)
  })

  it.each([
    ['--pool=solo; rm -rf /', ';'],
    ['--pool=solo | tee log', '|'],
    ['--pool=solo && curl evil', '&&'],
    ['--pool=solo & disown', '&'],
    ['--pool=solo > /tmp/out', '>'],
    ['--pool=solo < /etc/passwd', '<'],
    ['--pool=solo $(id)', '('],
    ['-I tasks/*', 'glob tasks/*'],
    ['-I task?', 'glob task?'],
    ['--pool=solo # a comment', 'a comment']
  ])('rejects %j, naming %j', (input, found) => {
    expect(() => splitWorkerArgs(input)).toThrow(`${SHELL_SYNTAX} (found ${JSON.stringify(found)}); give plain worker options like --pool=solo --concurrency=2`)
  })

  it.each(['--detach', '-D', '--pool=solo -D --concurrency=2'])('rejects detaching: %j', (input) => {
    expect(() => splitWorkerArgs(input)).toThrow('--detach (-D) is not supported: the action must own the worker process to stop it')
  })

  // Celery's worker options are click options: `-ED` is `-E -D` and would detach the worker.
  it('rejects -D combined with another short flag', () => {
    expect(() => splitWorkerArgs('-ED')).toThrow('--detach (-D) is not supported')
  })

  it('splits short clusters as click does: flags until an option that takes a value', () => {
    expect(splitWorkerArgs('-EB -ElINFO -Qa,b')).toEqual(['-E', '-B', '-E', '-l', 'INFO', '-Q', 'a,b'])
  })

  it.each([
    ['"a\tb"', '"a?b"'],
    ['"a\u0001b"', '"a?b"'],
    ['"line\nbreak"', '"line?break"'],
    ['x\u001bb', '"x?b"']
  ])('rejects control characters in %j, shown as ?', (input, shown) => {
    expect(() => splitWorkerArgs(input)).toThrow(`contains a control character in ${shown}`)
  })

  it('treats backticks as plain text, never running them', () => {
    expect(splitWorkerArgs('--x=`id`')).toEqual(['--x=`id`'])
  })
})

const RUN = { nodeName: 'cfg-371c72a7@vm', queue: 'cfg-371c72a7.ping', includes: [] as string[] }

/** The value following `option` in argv, checking the option appears exactly once. */
function valueOf(argv: string[], option: string): string | undefined {
  expect(argv.filter((a) => a === option)).toHaveLength(1)
  return argv[argv.indexOf(option) + 1]
}

describe('buildWorkerCommand', () => {
  it('adds the run node name, queue and INFO level to plain args', () => {
    const command = buildWorkerCommand(['--pool=solo'], RUN)
    expect(command).toEqual({
      argv: ['--pool=solo', '--hostname', 'cfg-371c72a7@vm', '--queues', 'cfg-371c72a7.ping', '--loglevel', 'INFO'],
      queues: ['cfg-371c72a7.ping'],
      loglevel: 'INFO',
      replacedHostname: undefined,
      userQueues: false
    })
  })

  it('merges every spelling of the user queues with the run queue, user queues first', () => {
    const command = buildWorkerCommand(['-Q', 'a,b', '--queues=c', '-Qd', '--queues', ' e , '], RUN)
    expect(command.queues).toEqual(['a', 'b', 'c', 'd', 'e', 'cfg-371c72a7.ping'])
    expect(valueOf(command.argv, '--queues')).toBe('a,b,c,d,e,cfg-371c72a7.ping')
    expect(command.argv.filter((a) => a.startsWith('-Q') || a.startsWith('--queues='))).toEqual([])
    expect(command.userQueues).toBe(true)
  })

  it('merges and deduplicates includes, user modules first', () => {
    const command = buildWorkerCommand(['-I', 'm1,m2', '--include=m2', '-Im3', '--include', 'm1'], { ...RUN, includes: ['m1', 'gate_tasks'] })
    expect(valueOf(command.argv, '--include')).toBe('m1,m2,m3,gate_tasks')
    expect(command.argv.filter((a) => a.startsWith('-I') || a.startsWith('--include='))).toEqual([])
  })

  it('adds the run includes alone when the user has none', () => {
    expect(valueOf(buildWorkerCommand([], { ...RUN, includes: ['gate_tasks'] }).argv, '--include')).toBe('gate_tasks')
  })

  it.each([
    [['-n', 'mine@%h'], 'mine@%h'],
    [['--hostname', 'mine@%h'], 'mine@%h'],
    [['--hostname=mine@%h'], 'mine@%h'],
    [['-nmine@%h'], 'mine@%h'],
    [['-n', 'first@h', '--hostname=last@h'], 'last@h']
  ])('replaces the user node name %j and reports it', (args, replaced) => {
    const command = buildWorkerCommand(args, RUN)
    expect(command.replacedHostname).toBe(replaced)
    expect(valueOf(command.argv, '--hostname')).toBe('cfg-371c72a7@vm')
    expect(command.argv).not.toContain(replaced)
  })

  it.each([
    [['-l', 'DEBUG'], 'DEBUG'],
    [['--loglevel', 'warning'], 'warning'],
    [['--loglevel=ERROR'], 'ERROR'],
    [['-linfo'], 'info'],
    [['-l', 'DEBUG', '-l', 'WARNING'], 'WARNING']
  ])('respects the user log level %j', (args, level) => {
    const command = buildWorkerCommand(args, RUN)
    expect(command.loglevel).toBe(level)
    expect(valueOf(command.argv, '--loglevel')).toBe(level)
  })

  it('passes the other arguments through in their order, before the managed ones', () => {
    const command = buildWorkerCommand(
      ['--pool=prefork', '-Q', 'q1', '-c', '2', '-n', 'x@y', '-Ofair', '--without-gossip', '-l', 'DEBUG', '--max-tasks-per-child=10'],
      RUN
    )
    expect(command.argv).toEqual([
      '--pool=prefork',
      '-c',
      '2',
      '-Ofair',
      '--without-gossip',
      '--max-tasks-per-child=10',
      '--hostname',
      'cfg-371c72a7@vm',
      '--queues',
      'q1,cfg-371c72a7.ping',
      '--loglevel',
      'DEBUG'
    ])
  })

  it('does not modify the array it is given', () => {
    const args = ['-Q', 'a', '-n', 'x@y']
    buildWorkerCommand(args, RUN)
    expect(args).toEqual(['-Q', 'a', '-n', 'x@y'])
  })
})
