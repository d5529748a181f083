import { describe, expect, it } from 'vitest'
import { classifyLine, summarizeLogLine } from '../../src/celery/worker-output.js'

const TASK_ID = '9f1c2d4e-5b6a-4c3d-8e9f-0a1b2c3d4e5f'
const RUN = { nodeName: 'cfg-371c72a7@vm', taskId: TASK_ID }
const classify = (line: string) => classifyLine(line, RUN)

const WRONG_PASSWORD =
  'sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "app_user"'

describe('classifyLine', () => {
  it('reads the transport and results lines of the banner', () => {
    expect(classify('- ** ---------- .> transport:   sqla+postgresql://app_user:**@127.0.0.1:5432/gatelab')).toEqual({
      kind: 'transport',
      value: 'sqla+postgresql://app_user:**@127.0.0.1:5432/gatelab'
    })
    expect(classify('- ** ---------- .> results:     postgresql://app_user:**@127.0.0.1:5432/gatelab')).toEqual({
      kind: 'results',
      value: 'postgresql://app_user:**@127.0.0.1:5432/gatelab'
    })
  })

  it('sees the ready line of its own node in plain and JSON logs', () => {
    expect(classify('[2026-11-25 23:06:34,394: INFO/MainProcess] cfg-371c72a7@vm ready.')).toEqual({ kind: 'ready' })
    expect(classify('{"level": "INFO", "logger": "celery.apps.worker", "message": "cfg-371c72a7@vm ready."}')).toEqual({ kind: 'ready' })
  })

  it('does not count the ready line of another node', () => {
    expect(classify('[2026-11-25 23:06:34,394: INFO/MainProcess] cfg-deadbeef@vm ready.')).toEqual({ kind: 'other' })
    expect(classify('[2026-11-25 23:06:34,394: INFO/MainProcess] cfg-371c72a7@other-host ready.')).toEqual({ kind: 'other' })
  })

  // A node whose name ends with ours (`old-cfg-371c72a7@vm`) is another worker.
  it('does not count the ready line of a node whose name ends with ours', () => {
    expect(classify('[2026-11-25 23:06:34,394: INFO/MainProcess] old-cfg-371c72a7@vm ready.')).toEqual({ kind: 'other' })
  })

  it('sees an unrecoverable error as fatal', () => {
    const line =
      "[2026-11-25 23:06:35,001: CRITICAL/MainProcess] Unrecoverable error: ProgrammingError('(psycopg2.errors.InsufficientPrivilege) permission denied for schema public\\n')"
    expect(classify(line)).toEqual({ kind: 'fatal' })
  })

  it('reads a wrong password as a refused connection', () => {
    expect(classify(WRONG_PASSWORD)).toEqual({ kind: 'db-refused', reason: 'password authentication failed for user "app_user"', transient: false })
  })

  it('unescapes the quotes of a refusal inside a JSON log line', () => {
    const line = JSON.stringify({ level: 'ERROR', logger: 'celery.worker.consumer.consumer', message: 'consumer: Cannot connect', exc_info: WRONG_PASSWORD })
    expect(line).toContain('for user \\"app_user\\"')
    expect(classify(line)).toEqual({ kind: 'db-refused', reason: 'password authentication failed for user "app_user"', transient: false })
  })

  it.each([
    [
      'sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "127.0.0.1", port 5499 failed: Connection refused',
      'Connection refused',
      true
    ],
    [
      'psycopg2.OperationalError: connection to server at "127.0.0.1", port 5432 failed: FATAL:  role "ghost" does not exist',
      'role "ghost" does not exist',
      false
    ],
    [
      'psycopg2.OperationalError: connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "nodb" does not exist',
      'database "nodb" does not exist',
      false
    ],
    [
      'sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not translate host name "db.invalid" to address: Name or service not known',
      'could not translate host name "db.invalid" to address: Name or service not known',
      false
    ],
    ['psycopg.OperationalError: consuming input failed: server closed the connection unexpectedly', 'server closed the connection unexpectedly', true],
    ['FATAL:  the database system is shutting down (psycopg.OperationalError) connection failed', 'the database system is shutting down', true]
  ])('reads %j as refused (transient: %s)', (line, reason, transient) => {
    // Transient: what a restarting server says; the worker reconnects once it is back.
    expect(classify(line)).toEqual({ kind: 'db-refused', reason, transient })
  })

  it('does not read a refusal phrase outside a database error as refused', () => {
    expect(classify('[2026-11-25 23:06:34,394: WARNING/MainProcess] redis: Connection refused')).toEqual({ kind: 'other' })
  })

  it('reads a missing privilege on the broker table as denied, naming the table', () => {
    const line =
      '[2026-11-25 23:06:35,200: ERROR/MainProcess] sqlalchemy.exc.ProgrammingError: (psycopg2.errors.InsufficientPrivilege) permission denied for table kombu_message'
    expect(classify(line)).toEqual({ kind: 'db-denied', object: 'kombu_message' })
  })

  it('strips the quotes of a quoted object name', () => {
    expect(classify('ERROR:  permission denied for table "Weird-Table"')).toEqual({ kind: 'db-denied', object: 'Weird-Table' })
  })

  it('follows the ping task through received, succeeded and failed', () => {
    expect(classify(`[2026-11-25 23:06:36,100: INFO/MainProcess] Task celery.ping[${TASK_ID}] received`)).toEqual({ kind: 'task-received' })
    expect(classify(`[2026-11-25 23:06:36,130: INFO/ForkPoolWorker-1] Task celery.ping[${TASK_ID}] succeeded in 0.03s: 'pong'`)).toEqual({
      kind: 'task-succeeded'
    })
    expect(
      classify(
        `[2026-11-25 23:06:36,130: ERROR/ForkPoolWorker-1] Task celery.ping[${TASK_ID}] raised unexpected: TypeError("ping() takes 0 positional arguments but 1 was given")`
      )
    ).toEqual({ kind: 'task-failed' })
  })

  it('ignores task lines of other task ids', () => {
    const other = '00000000-0000-4000-8000-000000000000'
    expect(classify(`[2026-11-25 23:06:36,100: INFO/MainProcess] Task celery.ping[${other}] received`)).toEqual({ kind: 'other' })
    expect(classify(`[2026-11-25 23:06:36,130: INFO/ForkPoolWorker-1] Task celery.ping[${other}] succeeded in 0.03s: 'pong'`)).toEqual({ kind: 'other' })
  })

  it('reads ordinary lines as other', () => {
    expect(classify('[2026-11-25 23:06:34,100: INFO/MainProcess] mingle: all alone')).toEqual({ kind: 'other' })
    expect(classify('')).toEqual({ kind: 'other' })
  })
})

describe('summarizeLogLine', () => {
  const TRACEBACK = [
    'Traceback (most recent call last):',
    '  File "/app/venv/lib/python3.11/site-packages/sqlalchemy/engine/base.py", line 145, in __init__',
    WRONG_PASSWORD,
    '',
    '(Background on this error at: https://sqlalche.me/e/20/e3q8)',
    ''
  ].join('\n')

  it('trims a plain line and leaves it otherwise alone', () => {
    expect(summarizeLogLine('  [2026-11-25 23:06:34,394: INFO/MainProcess] Connected to sqla+postgresql://app_user:**@127.0.0.1:5432/gatelab \n')).toBe(
      '[2026-11-25 23:06:34,394: INFO/MainProcess] Connected to sqla+postgresql://app_user:**@127.0.0.1:5432/gatelab'
    )
  })

  it('renders a JSON record as level logger: message — last meaningful exception line', () => {
    const line = JSON.stringify({ level: 'ERROR', logger: 'celery.worker.consumer.consumer', message: 'consumer: Cannot connect', exc_info: TRACEBACK })
    expect(summarizeLogLine(line)).toBe(`ERROR celery.worker.consumer.consumer: consumer: Cannot connect — ${WRONG_PASSWORD}`)
  })

  it('understands the logging module field names (levelname, name, msg, exc_text)', () => {
    const line = JSON.stringify({ levelname: 'CRITICAL', name: 'celery.worker', msg: 'Unrecoverable error', exc_text: 'Traceback:\nKeyError: x' })
    expect(summarizeLogLine(line)).toBe('CRITICAL celery.worker: Unrecoverable error — KeyError: x')
  })

  it('renders a JSON record without level, logger or exception as its message', () => {
    expect(summarizeLogLine('{"message": "cfg-371c72a7@vm ready."}')).toBe('cfg-371c72a7@vm ready.')
    expect(summarizeLogLine('{"event": "worker started", "level": "info"}')).toBe('info worker started')
  })

  it('leaves JSON without a message as it is', () => {
    expect(summarizeLogLine('{"pid": 42, "status": "up"}')).toBe('{"pid": 42, "status": "up"}')
  })

  it('extracts the fields of a JSON record cut in the middle', () => {
    const cut = '{"level": "ERROR", "logger": "celery.worker", "message": "consumer: Cannot \\"connect\\"", "exc_info": "Traceback (most rec'
    expect(summarizeLogLine(cut)).toBe('ERROR celery.worker: consumer: Cannot "connect"')
  })

  it('leaves broken JSON without a message field as it is', () => {
    expect(summarizeLogLine('{"level": "ERROR", "logg')).toBe('{"level": "ERROR", "logg')
  })

  it('cuts long lines to the limit with an ellipsis', () => {
    const long = `x${'y'.repeat(500)}`
    const short = summarizeLogLine(long)
    expect(short).toHaveLength(300)
    expect(short.endsWith('y…')).toBe(true)
    expect(short.startsWith('xyy')).toBe(true)
    expect(summarizeLogLine('abcdefghij', 5)).toBe('abcd…')
    expect(summarizeLogLine('abcde', 5)).toBe('abcde')
  })

  it('applies the limit to the rendered JSON record', () => {
    const line = JSON.stringify({ level: 'ERROR', logger: 'l', message: 'm'.repeat(1000) })
    const short = summarizeLogLine(line, 40)
    expect(short).toBe(`ERROR l: ${'m'.repeat(30)}…`)
  })
})
