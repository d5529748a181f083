"""Boot the user's Celery worker after probing the app it runs.

Started by the action as ``python bootstrap.py`` in the user's working directory. One import of
the app serves two purposes, so the probe costs no second interpreter start-up:

1. Import the app exactly as ``celery -A <app>`` does (``celery.app.utils.find_app``) and report,
   as one JSON line on file descriptor 3, what it *really* configures: broker and result backend
   URLs, table names, serializers, registered tasks, versions — and the exact message Celery
   would publish for the ping task, built by Celery's own ``send_task`` against an in-memory
   transport, so the action can insert it into the broker tables byte for byte.
2. Wait for one line on stdin: ``go`` hands the process over to Celery's own command line
   (``celery -A <app> worker ...``, same argv, same process); anything else exits quietly.

Nothing is written to stdout or stderr before the worker starts: those streams are the worker's.
Must run on every Python that Celery 5.2+ supports (3.7+): no walrus, no match.
"""
import json
import os
import platform
import sys
import time
import traceback

BOOT_ENV = 'CELERY_FOUNDATION_GATES_BOOT'
EVENTS_FD = 3
_started = time.monotonic()


def main():
    cfg = json.loads(os.environ[BOOT_ENV])
    _forget_own_directory()
    _die_with_parent(cfg.get('parentPid'))
    # Celery's CLI reads sys.argv for -P eventlet/gevent and monkey-patches before anything else.
    sys.argv = ['celery', '-A', cfg['app'], 'worker'] + list(cfg['argv'])
    events = os.fdopen(EVENTS_FD, 'w')

    def emit(obj):
        events.write(json.dumps(obj, default=repr) + '\n')
        events.flush()

    try:
        _record_env_reads(cfg.get('connectionsFile'))
        from celery import maybe_patch_concurrency
        maybe_patch_concurrency()
        hooks = _record_connections(cfg.get('connectionsFile'))
        app = _find_app(cfg['app'])
        # The worker imports the app's `include` modules at start; doing it here (same process,
        # so it costs nothing extra) completes the task list and makes a broken include an
        # import failure instead of a worker that dies later.
        app.loader.import_default_modules()
        _record_configured(app, cfg.get('connectionsFile'), hooks)
    except BaseException as exc:  # noqa: B902 - SystemExit/KeyboardInterrupt in user imports too
        emit(_import_error(exc))
        return 3

    if cfg.get('mode') == 'sql':  # the `sql` command: schema.py's DDL, then exit (no worker)
        try:
            emit(_load_own('schema').report(app, cfg.get('transport'), _load_own('drift')))
        except Exception as exc:
            emit({'event': 'error', 'stage': 'sql', 'type': type(exc).__name__,
                  'message': _last_line(exc), 'traceback': traceback.format_exc()})
        return 0

    try:
        probe = _probe(app, cfg)
    except BaseException as exc:
        emit({'event': 'error', 'stage': 'probe', 'type': type(exc).__name__,
              'message': _last_line(exc), 'traceback': traceback.format_exc()})
        return 4
    emit(probe)

    command = sys.stdin.readline().strip()
    events.close()  # worker children must not inherit the action's event channel
    if command != 'go':
        return 0
    _quick_stop()
    from celery.bin.celery import main as celery_main
    return celery_main()


def _forget_own_directory():
    """``python bootstrap.py`` puts the action's dist/ first on sys.path; users' modules must win."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or '.') != here]


def _die_with_parent(parent_pid):
    """If the action is killed outright, the kernel stops the worker too (Linux only)."""
    if not parent_pid or not sys.platform.startswith('linux'):
        return
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
    except Exception:
        return
    if os.getppid() != int(parent_pid):  # the parent died before prctl took effect
        sys.exit(0)


def _load_own(name):
    """One of the action's own modules beside this file (connections.py, drift.py), loaded by path
    under a name of its own so that it can shadow none of the user's modules, and without writing
    bytecode: the action's folder is not the pull request's to write into."""
    import importlib.util
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + '.py')
    spec = importlib.util.spec_from_file_location('celery_foundation_gates_' + name, path)
    module = importlib.util.module_from_spec(spec)
    before = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = before
    return module


def _record_connections(path):
    """connections.py's hooks, before the app imports a driver; never fatal to the boot."""
    if not path:
        return
    try:
        return _load_own('connections').install(path)
    except Exception:
        pass


def _record_env_reads(path):
    """envreads.py: which environment variables the app reads, from before Celery imports; never fatal."""
    try:
        path and _load_own('envreads').install(os.path.join(os.path.dirname(path), 'env-reads.jsonl'))
    except Exception:
        pass


def _record_configured(app, path, hooks):
    """configured.py: the identities the app configures, used during the run or not; never fatal."""
    try:  # beside the connection record, in the run's folder
        _load_own('configured').write(app, path and os.path.join(os.path.dirname(path), 'configured.jsonl'), hooks)
    except Exception:
        pass


def _quick_stop():
    """quickstop.py: Celery's warm shutdown without its idle waits; never fatal to the boot."""
    try:
        _load_own('quickstop').install()
    except Exception:
        pass


def _find_app(name):
    from celery import Celery
    from celery.app.utils import find_app
    app = find_app(name)
    if not isinstance(app, Celery):
        raise TypeError('{} is a {}, not a Celery application'.format(name, type(app).__name__))
    return app


def _last_line(exc):
    lines = traceback.format_exception_only(type(exc), exc)
    text = ''.join(lines).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def _import_error(exc):
    return {'event': 'import-error', 'type': type(exc).__name__, 'message': _last_line(exc),
            'traceback': traceback.format_exc(), 'seconds': time.monotonic() - _started}


def _version(module_name):
    try:
        module = __import__(module_name)
        return getattr(module, '__version__', None)
    except Exception:
        return None


def _url_parts(url):
    """Split a URL with SQLAlchemy's own parser, as the worker's engine will (None if unusable)."""
    if not isinstance(url, str) or '://' not in url:
        return None
    inner = url
    scheme = url.split('://', 1)[0]
    if '+' in scheme and scheme.split('+', 1)[0] in ('sqla', 'sqlalchemy', 'db'):
        inner = url.split('+', 1)[1]
    try:
        from sqlalchemy.engine.url import make_url
        u = make_url(inner)
    except Exception:
        return None
    return {'drivername': u.drivername, 'username': u.username, 'password': u.password,
            'host': u.host, 'port': u.port, 'database': u.database,
            'query': {k: (v if isinstance(v, str) else list(v)) for k, v in dict(u.query).items()}}


def _broker(app):
    from kombu import Connection
    conf = app.conf
    url = conf.broker_url
    info = {'url': url, 'urls': None, 'transport': None, 'transport_error': None,
            'polling_interval': None, 'parts': None}
    try:
        conn = app.connection_for_write()
        info['url'] = conn.as_uri(include_password=True)
        alternates = getattr(conn, 'alt', None) or []
        if len(alternates) > 1:
            info['urls'] = list(alternates)
        cls = conn.transport_cls
        info['transport'] = cls if isinstance(cls, str) else getattr(cls, '__name__', repr(cls))
        try:
            transport = Connection(info['url'], transport_options=conf.broker_transport_options).transport
            info['transport_class'] = type(transport).__module__ + '.' + type(transport).__name__
            options = conf.broker_transport_options or {}
            info['polling_interval'] = options.get('polling_interval', getattr(transport, 'polling_interval', None))
        except Exception as exc:  # e.g. the redis library is not installed
            info['transport_error'] = _last_line(exc)
    except Exception as exc:
        info['transport_error'] = _last_line(exc)
    info['parts'] = _url_parts(info['url'])
    if str(info['url'] or '').startswith('pgmq://'):  # kombu's PGMQ transport (pgmq_probe.py)
        try:
            info['pgmq'] = _load_own('pgmq_probe').report(app)
        except Exception as exc:
            info['transport_error'] = info['transport_error'] or _last_line(exc)
    return info


def _backend(app):
    conf = app.conf
    url = conf.result_backend
    info = {'url': url, 'scheme': None, 'backend_class': None, 'backend_error': None, 'parts': None}
    if url is None:
        info['scheme'] = 'disabled'
        return info
    if not isinstance(url, str):
        info['url'] = repr(url)
        info['backend_error'] = 'result_backend is not a URL string'
        return info
    info['scheme'] = url.split('://', 1)[0] if '://' in url else url
    try:
        from celery.app.backends import by_url
        cls, _ = by_url(url, app.loader)
        info['backend_class'] = cls.__module__ + '.' + cls.__name__
    except Exception as exc:
        info['backend_error'] = _last_line(exc)
    info['parts'] = _url_parts(url)
    return info


def _tables(app):
    conf = app.conf
    options = conf.broker_transport_options or {}
    names = conf.get('database_table_names') or {}
    schemas = conf.get('database_table_schemas') or {}
    return {
        'queue': options.get('queue_tablename', 'kombu_queue'),
        'message': options.get('message_tablename', 'kombu_message'),
        'task': names.get('task', 'celery_taskmeta'),
        'group': names.get('group', 'celery_tasksetmeta'),
        'task_schema': schemas.get('task'),
        'group_schema': schemas.get('group'),
    }


def _ping_payload(app, task_name, task_id, queue):
    """The exact payload kombu's SQLAlchemy transport would store for ``send_task``.

    Celery's own ``send_task`` publishes into kombu's in-memory transport, which shares the
    virtual-transport code that encodes the body and fills ``properties``; the result is dumped
    with the function the SQLAlchemy transport uses for its ``payload`` column. While building it
    the app must not touch its result backend (which would connect, and on 5.5+ create tables),
    so the backend is swapped for a stub on a throwaway subclass, then restored.
    """
    from kombu import Connection
    try:
        from kombu.transport.sqlalchemy import dumps
    except Exception:
        from json import dumps

    class _NoBackend(object):
        def on_task_call(self, *args, **kwargs):
            return None

    class _NoResult(object):
        def __init__(self, task_id, *args, **kwargs):
            self.id = task_id

    original = type(app)
    app.__class__ = type('ProbeOnly' + original.__name__, (original,), {'backend': _NoBackend()})
    try:
        options = dict(app.conf.broker_transport_options or {})
        with Connection('memory://', transport_options=options) as memory:
            app.send_task(task_name, task_id=task_id, queue=queue, connection=memory,
                          add_to_parent=False, result_cls=_NoResult)
            message = memory.default_channel._get(queue)
    finally:
        app.__class__ = original
    return dumps(message)


def _routing(app):
    """Where each of the app's tasks goes, by Celery's own router (task_routes, router functions,
    task_queues, the default queue), and the queues a worker started without -Q consumes.

    Read before anything is published: routing a task to an undeclared queue adds that queue to
    app.amqp.queues (task_create_missing_queues), which would hide the very mistake looked for.
    """
    queues = app.amqp.queues
    default = list(getattr(queues, 'consume_from', queues).keys())
    routes, errors = {}, {}
    router = app.amqp.router
    for name in sorted(app.tasks.keys()):
        if name.startswith('celery.'):
            continue
        try:
            options = router.route({}, name, (), {}, app.tasks.get(name))
            queue = options.get('queue')
            queue = getattr(queue, 'name', queue) or app.conf.task_default_queue
            routes.setdefault(queue, []).append(name)
        except Exception as exc:  # a router function that raises is itself a finding
            errors[name] = _last_line(exc)
    return default, routes, errors


def _use_queues(default, run_queue):
    """Without the user's -Q, the worker consumes what Celery would by default, plus the run's queue."""
    if '--queues' not in sys.argv:
        return
    i = sys.argv.index('--queues') + 1
    sys.argv[i] = ','.join([q for q in default if q != run_queue] + [run_queue])


def _extra_payloads(app, cfg, default, routes):
    """A ping for each queue the app uses (the queues gate), and the probe task (the dlq gate)."""
    import uuid
    out = []
    if cfg.get('pingEachQueue'):
        for queue in sorted(set(default) | set(routes)):
            if queue == cfg['queue']:
                continue
            out.append({'purpose': 'queue', 'queue': queue, 'task': cfg['task'], 'taskId': str(uuid.uuid4())})
    if cfg.get('probeTask'):
        name = cfg['probeTask']
        queue = next((q for q, names in routes.items() if name in names), app.conf.task_default_queue)
        out.append({'purpose': 'probe', 'queue': queue, 'task': name, 'taskId': str(uuid.uuid4())})
    for item in out:
        try:
            item['payload'] = _ping_payload(app, item['task'], item['taskId'], item['queue'])
        except Exception as exc:
            item['error'] = _last_line(exc)
    return out


def _drift(app, broker, backend):
    """drift.py's report on what the installed packages need; never fatal to the probe."""
    try:
        module = _load_own('drift')
        sqla = str(broker.get('transport_class') or '').startswith('kombu.transport.sqlalchemy') or \
            broker.get('transport') in ('sqla', 'sqlalchemy')
        return module.report(app, broker.get('url'), backend.get('url'), sqla)
    except Exception as exc:
        return {'error': _last_line(exc)}


def _probe(app, cfg):
    conf = app.conf
    if cfg.get('includePingModule'):
        import celery.contrib.testing.tasks  # noqa: F401 - registers celery.ping
    default, routes, route_errors = _routing(app)
    if cfg.get('queuesFromApp'):
        _use_queues(default, cfg['queue'])
    payload, payload_error = None, None
    try:
        payload = _ping_payload(app, cfg['task'], cfg['taskId'], cfg['queue'])
    except Exception as exc:
        payload_error = _last_line(exc)
    extra = _extra_payloads(app, cfg, default, routes)
    tasks = sorted(app.tasks.keys())
    default_queue = conf.task_default_queue
    queues = [q.name for q in (conf.task_queues or [])]
    consumed = sys.argv[sys.argv.index('--queues') + 1].split(',') if '--queues' in sys.argv else default
    broker, backend = _broker(app), _backend(app)
    return {
        'event': 'probe',
        'seconds': time.monotonic() - _started,
        'app': {'main': app.main, 'repr': repr(app)},
        'versions': {'python': platform.python_version(), 'celery': _version('celery'),
                     'kombu': _version('kombu'), 'sqlalchemy': _version('sqlalchemy'),
                     'psycopg': _version('psycopg'), 'psycopg2': _version('psycopg2')},
        'broker': broker,
        'backend': backend,
        'drift': _drift(app, broker, backend),
        'tables': _tables(app),
        'serializers': {'task': conf.task_serializer, 'result': conf.result_serializer,
                        'accept_content': list(conf.accept_content or [])},
        'tasks': tasks,
        'ping_task_registered': cfg['task'] in app.tasks,
        'default_queue': default_queue,
        'queues': queues,
        'ping_payload': payload,
        'ping_payload_error': payload_error,
        'default_consumed_queues': default,
        'consumed_queues': consumed,
        'routes': routes,
        'route_errors': route_errors,
        'extra_payloads': extra,
    }


if __name__ == '__main__':
    sys.exit(main())
