// The data planes without a database: which plane a broker URL is, kombu's PGMQ envelope and
// queue naming (transcribed from kombu/transport/pgmq.py), the run's node name within PGMQ's
// 47 characters, and how classifyDataPlane judges a pgmq:// broker.
import { describe, expect, it } from 'vitest'
import { classifyDataPlane, type DataPlaneCheck } from '../../src/celery/data-plane.js'
import type { ProbeReport } from '../../src/celery/probe.js'
import { parseDsn } from '../../src/db/dsn.js'
import { PGMQ_MAX_QUEUE_NAME, pgmqQueueName, pgmqSendArgs, pidboxQueue } from '../../src/planes/envelope.js'
import { PLANES, planeFor, planeOf } from '../../src/planes/index.js'
import { newRunIds, nodeHost } from '../../src/run/ids.js'

const BROKER = 'pgmq://app_user:s3cret@127.0.0.1:5432/gatelab'
const BACKEND = 'db+postgresql://app_user:s3cret@127.0.0.1:5432/gatelab'

function probe(broker: Partial<ProbeReport['broker']> = {}, extra: Partial<ProbeReport> = {}): ProbeReport {
  return {
    event: 'probe',
    seconds: 0.42,
    app: { main: 'app', repr: '<Celery app at 0x7f>' },
    versions: { python: '3.11.9', celery: '5.7.0', kombu: '5.7.0', sqlalchemy: '2.1.9', psycopg: '3.2.0' },
    broker: {
      url: BROKER,
      urls: [BROKER],
      transport: 'Transport',
      parts: null,
      pgmq: { queue_name_prefix: '', init_extension: false, visibility_timeout: null, package: '1.1.4', bundled_sql: '1.13.0' },
      ...broker
    },
    backend: { url: BACKEND, scheme: 'db', backend_class: 'celery.backends.database.DatabaseBackend', parts: null },
    tables: { queue: 'kombu_queue', message: 'kombu_message', task: 'celery_taskmeta', group: 'celery_tasksetmeta' },
    serializers: { task: 'json', result: 'json', accept_content: ['json'] },
    tasks: ['celery.ping'],
    ping_task_registered: true,
    default_queue: 'celery',
    queues: ['celery'],
    consumed_queues: ['celery', 'invoices', 'cfg-1a2b3c4d.ping'],
    ...extra
  }
}

const problemsOf = (check: DataPlaneCheck): string[] => (check.ok ? [] : check.problems)
const RUN = { nodeName: 'cfg-1a2b3c4d@fv-az1772-123', queue: 'cfg-1a2b3c4d.ping' }

describe('the plane registry', () => {
  it.each([
    ['sqla+postgresql://u:p@h/d', 'sqla'],
    ['sqlalchemy+postgresql+psycopg://u:p@h/d', 'sqla'],
    ['pgmq://u:p@h:5432/d', 'pgmq'],
    ['redis://h:6379/0', undefined],
    ['sqla+sqlite:///x.db', undefined],
    ['postgresql://u:p@h/d', undefined]
  ])('%s is the %s plane', (url, kind) => {
    expect(planeFor(parseDsn(url)!)?.kind).toBe(kind)
  })

  it('knows each kind once, and finds it by kind', () => {
    expect(PLANES.map((p) => p.kind)).toEqual(['sqla', 'pgmq'])
    expect(planeOf('pgmq').label).toBe("kombu's PGMQ transport")
    expect(() => planeOf('nope' as never)).toThrow(/no data plane of kind nope/)
  })
})

describe("kombu's PGMQ envelope", () => {
  it('names queues as entity_name(queue_name_prefix + name): every punctuation but _ becomes _', () => {
    expect(pgmqQueueName('', 'cfg-1a2b3c4d.ping')).toBe('cfg_1a2b3c4d_ping')
    expect(pgmqQueueName('app.', 'in-voices')).toBe('app_in_voices')
    expect(pgmqQueueName('', `a!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~b`)).toBe(`a${'_'.repeat(32)}b`)
    expect(pidboxQueue('', 'cfg-1a2b3c4d@vm')).toBe('cfg_1a2b3c4d_vm_celery_pidbox')
  })

  it("passes the message's headers as PGMQ headers, and a delay only when DelaySeconds is positive", () => {
    const payload = JSON.stringify({ body: 'W10=', headers: { id: 't1', task: 'celery.ping' }, properties: { delivery_tag: 'x' } })
    expect(pgmqSendArgs(payload)).toEqual({ headers: JSON.stringify({ id: 't1', task: 'celery.ping' }) })
    expect(pgmqSendArgs(JSON.stringify({ headers: {}, properties: {} }))).toEqual({})
    expect(pgmqSendArgs(JSON.stringify({ headers: null, properties: { MessageGroupId: 'g', DelaySeconds: '5' } }))).toEqual({
      headers: JSON.stringify({ MessageGroupId: 'g' }),
      delay: 5
    })
    expect(pgmqSendArgs(JSON.stringify({ headers: { MessageGroupId: 'h' }, properties: { MessageGroupId: 'g', DelaySeconds: -3 } }))).toEqual({
      headers: JSON.stringify({ MessageGroupId: 'h' })
    })
    expect(pgmqSendArgs(JSON.stringify({ properties: { DelaySeconds: 'soon' } }))).toEqual({})
  })
})

describe("the run's node name", () => {
  it('keeps a host that fits PGMQ, shortens one that does not (first label, then cut)', () => {
    expect(nodeHost('cfg-1a2b3c4d', 'fv-az1772-123')).toBe('fv-az1772-123')
    expect(nodeHost('cfg-1a2b3c4d', 'fv-az1772-123.internal.cloudapp.net')).toBe('fv-az1772-123')
    expect(nodeHost('cfg-1a2b3c4d', 'myapp-worker-7d9f8b6c5d-x2x4z')).toBe('myapp-worker-7d9f8b6')
    for (const host of ['h', 'fv-az1772-123.internal.cloudapp.net', 'x'.repeat(200), '.leading-dot']) {
      const ids = newRunIds(host)
      expect(pidboxQueue('', ids.nodeName).length).toBeLessThanOrEqual(PGMQ_MAX_QUEUE_NAME)
      expect(ids.nodeName).toMatch(/^cfg-[0-9a-f]{8}@\S+$/)
    }
  })
})

describe('classifyDataPlane on pgmq://', () => {
  it('accepts it as PostgreSQL, of kind pgmq, ignoring the SQLAlchemy driver check that is not its own', () => {
    const check = classifyDataPlane(
      probe({}, { drift: { drivers: { broker: { driver: null, error: "Can't load plugin: sqlalchemy.dialects:pgmq" }, results: null } } }),
      RUN
    )
    expect(problemsOf(check)).toEqual([])
    expect(check.ok && check.plane.kind).toBe('pgmq')
    expect(check.ok && check.plane.broker.redacted).toBe('pgmq://***@127.0.0.1:5432/gatelab')
  })

  it("connects where kombu's transport does: its defaults fill what the URL leaves out; conn_string is noted", () => {
    const check = classifyDataPlane(probe({ url: 'pgmq://', urls: ['pgmq://'] }), RUN)
    expect(check.ok && check.plane.broker.parts).toMatchObject({ host: 'localhost', port: 5432, database: 'postgres', username: 'postgres', password: '' })
    const full = classifyDataPlane(probe(), RUN)
    expect(full.ok && full.plane.broker.parts).toMatchObject({ host: '127.0.0.1', port: 5432, database: 'gatelab', username: 'app_user', password: 's3cret' })
    expect(full.ok && full.notes).toEqual([])
    const viaOption = classifyDataPlane(probe({ pgmq: { queue_name_prefix: '', init_extension: false, conn_string: true } }), RUN)
    expect(viaOption.ok && viaOption.notes).toEqual([
      "broker_transport_options sets conn_string, which the worker connects with instead of the broker URL: the action's checks use the URL"
    ])
  })

  it('keeps kind sqla for kombu’s SQLAlchemy transport', () => {
    const check = classifyDataPlane(probe({ url: 'sqla+postgresql://u:p@h/d', pgmq: null }))
    expect(check.ok && check.plane.kind).toBe('sqla')
  })

  it('names a queue the worker could not declare on PGMQ, counting the queue_name_prefix', () => {
    const prefix = 'a-rather-long-prefix-for-every-queue.'
    const check = classifyDataPlane(probe({ pgmq: { queue_name_prefix: prefix, init_extension: false } }), RUN)
    const problems = problemsOf(check)
    expect(problems.length).toBeGreaterThan(0)
    expect(problems[0]).toMatch(
      /^PGMQ queue name a_rather_long_prefix_for_every_queue_\w+ is \d+ characters, over PGMQ's 47: the worker would die declaring it/
    )
    expect(problems.join('\n')).toContain(`queue_name_prefix '${prefix}' counts too`)
  })

  it('says when the transport cannot load: the pgmq library missing, or a kombu without the transport', () => {
    expect(
      problemsOf(classifyDataPlane(probe({ transport_error: 'ImportError: PGMQ transport requires the pgmq library: pip install kombu[pgmq]' }), RUN))
    ).toEqual(["kombu's PGMQ transport cannot load: ImportError: PGMQ transport requires the pgmq library: pip install kombu[pgmq]"])
    expect(problemsOf(classifyDataPlane(probe({ transport_error: "ModuleNotFoundError: No module named 'psycopg'" }), RUN))).toEqual([
      `kombu's PGMQ transport cannot load: ModuleNotFoundError: No module named 'psycopg' (pip install "kombu[pgmq]")`
    ])
    const old = problemsOf(
      classifyDataPlane(
        probe({ transport_error: "KeyError: 'No such transport: pgmq.  Did you mean …'" }, { versions: { python: '3.11', kombu: '5.2.4' } }),
        RUN
      )
    )
    expect(old).toEqual([expect.stringMatching(/^broker is pgmq:\/\/, which kombu 5\.2\.4 cannot load .*needs kombu 5\.7 or later$/)])
  })
})
