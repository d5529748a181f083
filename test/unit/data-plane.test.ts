import { describe, expect, it } from 'vitest'
import { classifyDataPlane, type DataPlaneCheck } from '../../src/celery/data-plane.js'
import type { ProbeReport } from '../../src/celery/probe.js'

const BROKER = 'sqla+postgresql://app_user:s3cret@127.0.0.1:5432/gatelab'
const BACKEND = 'db+postgresql+psycopg2://app_user:s3cret@127.0.0.1:5432/gatelab'

/** A probe as bootstrap.py reports it, with the broker and backend fields replaced. */
function probe(broker: Partial<ProbeReport['broker']>, backend: Partial<ProbeReport['backend']>): ProbeReport {
  return {
    event: 'probe',
    seconds: 0.42,
    app: { main: 'app', repr: '<Celery app at 0x7f>' },
    versions: { python: '3.11.9', celery: '5.7.0', kombu: '5.5.0', sqlalchemy: '2.0.36', psycopg2: '2.9.10' },
    broker: { url: BROKER, urls: [BROKER], transport: 'sqlalchemy', parts: null, ...broker },
    backend: { url: BACKEND, scheme: 'db', backend_class: 'celery.backends.database.DatabaseBackend', parts: null, ...backend },
    tables: { queue: 'kombu_queue', message: 'kombu_message', task: 'celery_taskmeta', group: 'celery_groupmeta' },
    serializers: { task: 'json', result: 'json', accept_content: ['json'] },
    tasks: ['celery.ping', 'app.tasks.add'],
    ping_task_registered: true,
    default_queue: 'celery',
    queues: ['celery']
  }
}

/** The problems of a check that must fail; fails the test if it passed. */
function problemsOf(check: DataPlaneCheck): string[] {
  if (check.ok) throw new Error(`expected a failed check, got ok with ${JSON.stringify(check.plane)}`)
  return check.problems
}

describe('classifyDataPlane', () => {
  it('accepts a PostgreSQL broker and backend, with redacted URLs to show', () => {
    const check = classifyDataPlane(probe({}, {}))
    expect(check.ok).toBe(true)
    if (!check.ok) return
    expect(check.notes).toEqual([])
    expect(check.plane.broker).toMatchObject({
      url: BROKER,
      redacted: 'sqla+postgresql://***@127.0.0.1:5432/gatelab',
      parts: { prefix: 'sqla', scheme: 'postgresql', username: 'app_user', password: 's3cret', database: 'gatelab' }
    })
    expect(check.plane.backend).toMatchObject({
      url: BACKEND,
      redacted: 'db+postgresql+psycopg2://***@127.0.0.1:5432/gatelab',
      parts: { prefix: 'db', scheme: 'postgresql+psycopg2' }
    })
  })

  it('accepts the sqlalchemy+ broker prefix', () => {
    expect(classifyDataPlane(probe({ url: 'sqlalchemy+postgresql+psycopg://u:p@h/d' }, {})).ok).toBe(true)
  })

  it('notes failover broker URLs', () => {
    const check = classifyDataPlane(probe({ urls: [BROKER, 'sqla+postgresql://app_user:s3cret@10.0.0.2:5432/gatelab'] }, {}))
    expect(check.ok && check.notes).toEqual(['2 failover broker URLs configured; the first is checked'])
  })

  it.each([
    ['redis://:s3cret@redis:6379/0', 'broker is redis:// (Redis), not PostgreSQL (sqla+postgresql:// or pgmq://)', 'redis://***@redis:6379/0'],
    ['amqp://guest:s3cret@rabbit:5672//', 'broker is amqp:// (RabbitMQ/AMQP), not PostgreSQL (sqla+postgresql:// or pgmq://)', 'amqp://***@rabbit:5672//'],
    ['sqla+sqlite:///celery.db', 'broker is SQLAlchemy on sqlite:// (SQLite), not PostgreSQL (sqla+postgresql:// or pgmq://)', 'sqla+sqlite:///celery.db'],
    [
      'sqla+postgres://app_user:s3cret@h/d',
      'broker uses sqla+postgres://: SQLAlchemy 1.4+ rejects the postgres:// alias: write postgresql://',
      'sqla+postgres://***@h/d'
    ],
    ['db+postgresql://app_user:s3cret@h/d', 'broker is db+postgresql://, not PostgreSQL (sqla+postgresql:// or pgmq://)', 'db+postgresql://***@h/d']
  ])('rejects the broker %s, naming its scheme', (url, problem, shown) => {
    const check = classifyDataPlane(probe({ url, urls: [url] }, {}))
    expect(problemsOf(check)).toEqual([problem])
    expect(check).toMatchObject({ brokerShown: shown, backendShown: 'db+postgresql+psycopg2://***@127.0.0.1:5432/gatelab' })
  })

  it('rejects a broker that is not set', () => {
    const check = classifyDataPlane(probe({ url: null, urls: null }, {}))
    expect(problemsOf(check)).toEqual(['broker is not a URL: (not set)'])
    expect(check).toMatchObject({ brokerShown: '(not set)' })
  })

  it.each([
    [{ url: 'rpc://', scheme: 'rpc' }, 'result backend is rpc:// (RPC (replies over the AMQP broker)), not PostgreSQL (db+postgresql://)'],
    [{ url: null, scheme: 'disabled' }, 'result backend is not configured (results are disabled), not PostgreSQL (db+postgresql://)'],
    [{ url: 'disabled://', scheme: 'disabled' }, 'result backend is not configured (results are disabled), not PostgreSQL (db+postgresql://)'],
    [{ url: 'db+mysql://root:s3cret@mysql/app', scheme: 'db' }, 'result backend is SQLAlchemy on mysql:// (MySQL), not PostgreSQL (db+postgresql://)'],
    [{ url: 'redis://redis:6379/1', scheme: 'redis' }, 'result backend is redis:// (Redis), not PostgreSQL (db+postgresql://)'],
    [
      { url: 'db+postgres://app_user:s3cret@h/d', scheme: 'db' },
      'result backend uses db+postgres://: SQLAlchemy 1.4+ rejects the postgres:// alias: write postgresql://'
    ],
    [{ url: 'sqla+postgresql://u:p@h/d', scheme: 'sqla' }, 'result backend is sqla+postgresql://, not PostgreSQL (db+postgresql://)']
  ])('rejects the backend %j', (backend, problem) => {
    expect(problemsOf(classifyDataPlane(probe({}, backend)))).toEqual([problem])
  })

  it('rejects a backend that cannot load even when its URL is right', () => {
    const check = classifyDataPlane(probe({}, { backend_error: "ModuleNotFoundError: No module named 'psycopg2'" }))
    expect(problemsOf(check)).toEqual(["result backend cannot load: ModuleNotFoundError: No module named 'psycopg2'"])
  })

  it('reports broker and backend problems together', () => {
    const check = classifyDataPlane(probe({ url: 'redis://redis:6379/0' }, { url: 'rpc://', scheme: 'rpc' }))
    expect(problemsOf(check)).toEqual([
      'broker is redis:// (Redis), not PostgreSQL (sqla+postgresql:// or pgmq://)',
      'result backend is rpc:// (RPC (replies over the AMQP broker)), not PostgreSQL (db+postgresql://)'
    ])
  })

  it('never shows a password in problems or shown URLs', () => {
    const check = classifyDataPlane(probe({ url: 'amqp://guest:s3cret@rabbit//' }, { url: 'db+mysql://root:s3cret@mysql/app', scheme: 'db' }))
    expect(JSON.stringify(check)).not.toContain('s3cret')
  })
})
