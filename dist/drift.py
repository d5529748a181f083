"""What the *installed* Celery, kombu and SQLAlchemy need, read from their own code (no lists here).

Loaded by bootstrap.py (by file path, under a name no user module has) after the app imported,
before the worker starts; it never connects to a database. Each part is reported on its own: an
error in one is recorded in the report instead of breaking the probe.

- ``drivers``: the DBAPI module SQLAlchemy picks for the broker and the result backend URL, and
  whether it imports (SQLAlchemy 2.1 maps ``postgresql://`` to psycopg 3, 1.4/2.0 to psycopg2).
- ``engine_options``: kombu's sqla transport hands ``broker_transport_options`` (minus the keys
  it pops) to ``create_engine``; building that engine with kombu's own method shows which keys
  SQLAlchemy rejects. ``create_engine`` does not connect. ``backend_engine_options``: the same for
  ``database_engine_options``, which Celery's result backend hands to ``create_engine``.
- ``result_tables`` / ``broker_tables``: the columns (type as PostgreSQL DDL, nullability),
  indexes, unique constraints and sequences (name and schema) of the models the installed packages create, so the db-access gate can
  compare them with the database's catalog.
Must run on every Python that Celery 5.2+ supports (3.7+).
"""
import re
import traceback


def _last_line(exc):
    text = ''.join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def _strip_prefix(url):
    scheme = url.split('://', 1)[0]
    if '+' in scheme and scheme.split('+', 1)[0] in ('sqla', 'sqlalchemy', 'db'):
        return url.split('+', 1)[1]
    return url


def driver_of(url):
    """The driver SQLAlchemy resolves for ``url`` and whether its module imports (no connection)."""
    out = {'driver': None, 'dialect': None, 'module': None, 'error': None}
    if not isinstance(url, str) or '://' not in url:
        return None
    try:
        from sqlalchemy.engine.url import make_url
        dialect = make_url(_strip_prefix(url)).get_dialect()
        out['driver'] = getattr(dialect, 'driver', None)
        out['dialect'] = dialect.__name__
    except Exception as exc:  # unknown dialect/driver name: SQLAlchemy says which
        out['error'] = _last_line(exc)
        return out
    # SQLAlchemy 2.x: import_dbapi(); 1.4: dbapi() (a classmethod; on 2.x `dbapi` is an attribute).
    load = getattr(dialect, 'import_dbapi', None) or getattr(dialect, 'dbapi', None)
    if not callable(load):
        return out
    try:
        module = load()
        out['module'] = getattr(module, '__name__', None)
    except ImportError as exc:
        out['module'] = getattr(exc, 'name', None)
        out['error'] = _last_line(exc)
    except Exception as exc:
        out['error'] = _last_line(exc)
    return out


_REJECTED = re.compile(r"Invalid argument\(s\) (.+?) sent to create_engine")


def engine_options(app):
    """Builds the broker's engine exactly as kombu's sqla Channel would, without connecting."""
    options = dict(app.conf.broker_transport_options or {})
    out = {'keys': sorted(str(k) for k in options), 'rejected': [], 'error': None}
    try:
        from kombu.transport.sqlalchemy import Channel
    except Exception as exc:
        out['error'] = _last_line(exc)
        return out

    class _Stub(object):
        pass

    stub = _Stub()
    stub.connection = _Stub()
    stub.connection.client = app.connection_for_write()
    try:
        _build_engine(lambda: Channel._engine_from_config(stub), out)
    finally:
        stub.connection.client.release()
    return out


def backend_engine_options(app, url):
    """``database_engine_options`` go to ``create_engine`` in Celery's result backend (its
    SessionManager, with the URL minus ``db+``); built here the same way, without connecting."""
    options = dict(app.conf.database_engine_options or {})
    out = {'keys': sorted(str(k) for k in options), 'rejected': [], 'error': None}
    if not options or not isinstance(url, str):
        return out
    def build():
        from sqlalchemy import create_engine
        return create_engine(_strip_prefix(url), **options)
    _build_engine(build, out)
    return out


def _build_engine(build, out):
    """Builds an engine (``create_engine`` does not connect) and disposes of it; the keys
    SQLAlchemy rejects (``TypeError: Invalid argument(s) 'a','b' sent to create_engine()``) go to
    ``out['rejected']``, any error's last line to ``out['error']``."""
    try:
        build().dispose()
    except TypeError as exc:
        found = _REJECTED.search(str(exc))
        if found:
            out['rejected'] = re.findall(r"'([^']+)'", found.group(1))
        out['error'] = _last_line(exc)
    except Exception as exc:
        out['error'] = _last_line(exc)


def _columns(table, used):
    from sqlalchemy.dialects import postgresql
    dialect = postgresql.dialect()
    from sqlalchemy import UniqueConstraint
    cols = []
    for c in table.columns:
        seq = c.default if getattr(c.default, 'is_sequence', False) else None
        cols.append({'name': c.name, 'type': str(c.type.compile(dialect=dialect)), 'nullable': bool(c.nullable),
                     'primary_key': bool(c.primary_key), 'used': c.name in used,
                     'sequence': seq.name if seq is not None else None,
                     'sequence_schema': seq.schema if seq is not None else None})
    indexes = [{'name': ix.name, 'columns': [c.name for c in ix.columns], 'unique': bool(ix.unique)}
               for ix in table.indexes if ix.name]
    # UNIQUE(task_id), UNIQUE(name): constraints, not indexes, in the model (``unique=True``).
    unique = [[c.name for c in uc.columns] for uc in table.constraints if isinstance(uc, UniqueConstraint)]
    return {'columns': cols, 'indexes': indexes, 'unique': unique}


def result_tables(app):
    """Celery's result models; ``used`` marks the columns the backend's class maps (result_extended)."""
    from celery.backends.database import models
    extended = getattr(models, 'TaskExtended', models.Task) if app.conf.result_extended else models.Task
    used = set(c.name for c in extended.__mapper__.columns)
    return {'task': _columns(models.Task.__table__, used),
            'group': _columns(models.TaskSet.__table__, set(c.name for c in models.TaskSet.__mapper__.columns))}


def kombu_classes(app):
    """kombu's sqla models (queue, message), declared by its own Channel for the configured table
    names: the same classes the worker's channel declares later in this process (schema.py asks
    this too, for the DDL)."""
    from kombu.transport.sqlalchemy import Channel

    class _Stub(object):
        pass

    channel = Channel.__new__(Channel)  # no __init__: it would open a connection
    channel.connection = _Stub()
    channel.connection.client = _Stub()
    options = dict(app.conf.broker_transport_options or {})
    channel.connection.client.transport_options = options
    configure = getattr(channel, '_configure_entity_tablenames', None)
    if configure:
        configure(options)
    return channel.queue_cls, channel.message_cls


def broker_tables(app):
    """kombu's sqla models' columns, as the worker will declare them."""
    classes = dict(zip(('queue', 'message'), kombu_classes(app)))
    out = {}
    for key in ('queue', 'message'):
        cls = classes[key]
        out[key] = _columns(cls.__table__, set(c.name for c in cls.__mapper__.columns))
    return out


def report(app, broker_url, backend_url, sqla):
    """``sqla``: the broker is kombu's SQLAlchemy transport (its engine options and models apply)."""
    out = {}
    drivers = {'broker': driver_of(broker_url), 'results': driver_of(backend_url)}
    out['drivers'] = drivers
    parts = [('result_tables', lambda: result_tables(app))]
    if drivers['results'] and not drivers['results'].get('error'):
        parts.append(('backend_engine_options', lambda: backend_engine_options(app, backend_url)))
    if sqla:
        parts += [('engine_options', lambda: engine_options(app)), ('broker_tables', lambda: broker_tables(app))]
    for key, fn in parts:
        try:
            out[key] = fn()
        except Exception as exc:
            out[key + '_error'] = _last_line(exc)
    return out
