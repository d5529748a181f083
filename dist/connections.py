"""Record every PostgreSQL connection the worker's processes open (rls-role).

Loaded by bootstrap.py (by path, under a name of its own) before the app is imported, so the
app's own data layer — Django's ``DATABASES``, an SQLAlchemy engine, psycopg/psycopg2 called
directly — is seen as well as Celery's broker and result backend, including connections opened
per task and closed before the action looks at ``pg_stat_activity``. Prefork children fork from
this process and inherit the hooks.

Each connection is one JSON line appended (O_APPEND, one ``os.write`` of a short line, so the
lines of concurrent children do not interleave) to the file the action names: role, host, port,
database, application_name, the driver, and where it was opened (the first frame outside the
drivers, SQLAlchemy and this file; ``broker`` / ``result backend`` for kombu's and Celery's).
Never the password. No failure here may break the app: everything is wrapped.

This is a record kept by the worker's own process, which runs untrusted code: code that wants to
hide can bypass it (libpq through ctypes, a subprocess). It turns the *honest* false green — an
app reading tenant data as another role through its own connection — into a finding.
"""
import json
import os
import sys

MAX_LINES_PER_PROCESS = 1000  # a kept worker runs for hours; the file must stay bounded
FIELD_CHARS = 200
# Django's backend and its decorators sit between the app's code and the driver: look past them.
_DRIVER_PREFIXES = ('psycopg', 'psycopg2', 'psycopg_pool', 'sqlalchemy', 'celery_foundation_gates', 'django.db', 'django.utils')
_state = {'path': None, 'written': 0, 'pid': None}
MAX_ENGINES = 200
# Engines the app created (weak references, so a discarded engine is not kept alive), with the
# line that created it: configured.py reports them even when they never connect.
_engines = []


def install(path):
    """Wrap psycopg (3) and psycopg2 ``connect`` and listen to SQLAlchemy engines' connects;
    returns ``created_engines`` (for configured.py: this module is loaded under a private name)."""
    if not path:
        return None
    _state['path'] = path
    for hook in (_hook_psycopg, _hook_psycopg2, _hook_sqlalchemy, _hook_psycopg_pool):
        try:
            hook()
        except Exception:
            pass
    return created_engines


def _hook_psycopg():
    try:
        import psycopg
    except Exception:
        return
    cls = psycopg.Connection
    original = cls.__dict__.get('connect')
    if original is None or getattr(original, '_cfg_wrapped', False):
        return
    func = original.__func__

    def connect(klass, *args, **kwargs):
        conn = func(klass, *args, **kwargs)
        _record_unless_sqlalchemy(conn, 'psycopg')
        return conn

    connect._cfg_wrapped = True
    cls.connect = classmethod(connect)
    # psycopg.connect is Connection.connect bound at import: rebind it to the wrapper.
    psycopg.connect = cls.connect


def _hook_psycopg2():
    try:
        import psycopg2
    except Exception:
        return
    original = psycopg2.connect
    if getattr(original, '_cfg_wrapped', False):
        return

    def connect(*args, **kwargs):
        conn = original(*args, **kwargs)
        _record_unless_sqlalchemy(conn, 'psycopg2')
        return conn

    connect._cfg_wrapped = True
    psycopg2.connect = connect


def _hook_psycopg_pool():
    """A pool opens its connections in threads of its own, where no caller is on the stack (kombu's
    PGMQ transport, through the pgmq package, is one): remember who created the pool, so its
    connections are attributed to it (``_where`` reads it from the pool's frame)."""
    import importlib.util
    if importlib.util.find_spec('psycopg_pool') is None:
        return
    import psycopg_pool
    for cls in (getattr(psycopg_pool, 'ConnectionPool', None), getattr(psycopg_pool, 'AsyncConnectionPool', None)):
        init = getattr(cls, '__init__', None)
        if init is None or getattr(init, '_cfg_wrapped', False):
            continue

        def wrapped(self, *args, _init=init, **kwargs):
            try:
                self._cfg_where = _where()
            except Exception:
                pass
            _init(self, *args, **kwargs)

        wrapped._cfg_wrapped = True
        cls.__init__ = wrapped


def _hook_sqlalchemy():
    try:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
    except Exception:
        return

    def on_connect(dbapi_connection, connection_record):
        _record(dbapi_connection, 'sqlalchemy')

    event.listen(Engine, 'connect', on_connect)
    _hook_engine_init(Engine)


def _hook_engine_init(engine_cls):
    """Every engine passes ``Engine.__init__``, whatever built it (create_engine,
    engine_from_config, an async engine's sync engine, a subclass): more robust than wrapping
    ``create_engine``, which an app may have imported under another name, and it gives the line
    that created the engine, which walking gc for Engine instances after import would not."""
    original = engine_cls.__init__
    if getattr(original, '_cfg_wrapped', False):
        return
    import weakref

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        try:
            where = _where(site=True)
            if len(_engines) < MAX_ENGINES and where and where.split(':', 1)[0] not in ('broker', 'result backend', 'celery'):
                _engines.append((weakref.ref(self), where))
        except Exception:
            pass

    __init__._cfg_wrapped = True
    engine_cls.__init__ = __init__


def created_engines():
    """(engine, 'module:line') for each engine the app created that still exists."""
    out = []
    for ref, where in _engines:
        engine = ref()
        if engine is not None:
            out.append((engine, where))
    return out


def _record_unless_sqlalchemy(conn, source):
    # Through an engine, the SQLAlchemy listener records the same connection (with the engine as
    # the source); recording it twice would double the count.
    try:
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_globals.get('__name__', '').startswith('sqlalchemy'):
                return
            frame = frame.f_back
    except Exception:
        pass
    _record(conn, source)


def _record(conn, source):
    try:
        if _state['pid'] != os.getpid():  # a forked child counts its own lines
            _state['pid'], _state['written'] = os.getpid(), 0
        if not _state['path'] or _state['written'] >= MAX_LINES_PER_PROCESS:
            return
        entry = dict(_identity(conn), source=source, where=_where(), pid=os.getpid())
        line = json.dumps({k: _clip(v) for k, v in entry.items()}, separators=(',', ':')) + '\n'
        fd = os.open(_state['path'], os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, 'O_CLOEXEC', 0), 0o600)
        try:
            os.write(fd, line.encode('utf-8', 'replace'))
        finally:
            os.close(fd)
        _state['written'] += 1
    except Exception:
        pass


def _clip(value):
    if isinstance(value, str):
        return value[:FIELD_CHARS]
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _identity(conn):
    """What the driver already knows (no query): the server-side user, never the password."""
    out = {'role': None, 'host': None, 'port': None, 'dbname': None, 'application_name': None}
    info = getattr(conn, 'info', None)  # psycopg 3, psycopg2 2.8+
    for key, attr in (('role', 'user'), ('host', 'host'), ('port', 'port'), ('dbname', 'dbname')):
        try:
            out[key] = getattr(info, attr)
        except Exception:
            pass
    try:
        out['application_name'] = info.parameter_status('application_name')  # psycopg 3
    except Exception:
        try:
            out['application_name'] = conn.get_parameter_status('application_name')  # psycopg2
        except Exception:
            pass
    if out['role'] is None:
        try:
            params = conn.get_dsn_parameters()  # psycopg2 before 2.8
            out['role'], out['host'], out['dbname'] = params.get('user'), params.get('host'), params.get('dbname')
        except Exception:
            pass
    try:
        out['port'] = int(out['port']) if out['port'] is not None else None
    except Exception:
        out['port'] = None
    return out


def _where(site=False):
    """The first caller outside the drivers: a module name (with ``:line`` for ``site``), or
    broker / result backend / celery."""
    try:
        frame = sys._getframe(2)
    except Exception:
        return None
    while frame is not None:
        name = frame.f_globals.get('__name__', '') or ''
        if name.startswith('psycopg_pool'):
            # A pool's own thread: the pool remembers who created it (_hook_psycopg_pool).
            created_by = getattr(frame.f_locals.get('self'), '_cfg_where', None)
            if created_by:
                return created_by
        # The pgmq package is the PGMQ transport's driver: look past it to kombu.
        if name.startswith(_DRIVER_PREFIXES) or name in ('threading', 'contextlib', 'functools', 'pgmq') or name.startswith('pgmq.'):
            frame = frame.f_back
            continue
        if name == 'kombu' or name.startswith('kombu.'):
            return 'broker'
        if name.startswith('celery.backends'):
            return 'result backend'
        if name == 'celery' or name.startswith('celery.'):
            return 'celery'
        return '{}:{}'.format(name, frame.f_lineno) if site else name
    return None
