"""The DDL the *installed* kombu and Celery would create for this app, read from their own models.

Loaded by bootstrap.py (by file path, under a name no user module has) in its ``sql`` mode, after
the app imported exactly as the worker imports it; no worker starts afterwards and nothing
connects to a database. For the ``sql`` command (src/sql/): the TypeScript side wraps these
statements so that the owner role creates the objects, and adds the grants.

- ``broker``: when the broker is kombu's SQLAlchemy transport, the sequences, tables and indexes
  of the ``Queue``/``Message`` classes kombu's own Channel declares for the configured
  ``queue_tablename``/``message_tablename``.
- ``results``: when the result backend is Celery's database backend, the same for its
  ``Task``/``TaskSet`` models after Celery's own ``configure`` applied ``database_table_names`` and
  ``database_table_schemas`` (the sequences move to the table's schema too).

Each statement is what SQLAlchemy itself emits for ``metadata.create_all`` (``CreateSequence``,
``CreateTable``, ``CreateIndex``), compiled with the PostgreSQL dialect and made idempotent
(``IF NOT EXISTS``, added to the text: SQLAlchemy 1.4 has no flag for it).
Must run on every Python that Celery 5.2+ supports (3.7+).
"""
import re
import traceback

_CREATE = re.compile(r'^(CREATE (?:UNIQUE )?(?:TABLE|SEQUENCE|INDEX))\s+(?!IF NOT EXISTS)')


def _last_line(exc):
    text = ''.join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def _idempotent(statement):
    # SQLAlchemy indents with tabs and ends lines with ', ': kept as lines, tidied at their edges
    # only (never inside, where a quoted identifier could hold any character).
    lines = [re.sub(r'^\t+', lambda m: '  ' * len(m.group(0)), line.rstrip()) for line in statement.strip().splitlines()]
    return _CREATE.sub(r'\1 IF NOT EXISTS ', '\n'.join(lines), count=1)


def _sequence_of(column):
    default = column.default
    return default if getattr(default, 'is_sequence', False) else None


def _ddl(tables):
    """Sequences, tables, indexes in the order ``create_all`` runs them; and each table's
    sequence (name, schema) for the grants."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex, CreateSequence, CreateTable
    dialect = postgresql.dialect()
    statements, objects = [], {}
    for key, table in tables:
        sequences = []
        for column in table.columns:
            seq = _sequence_of(column)
            if seq is not None:
                statements.append(_idempotent(str(CreateSequence(seq).compile(dialect=dialect))))
                sequences.append({'name': seq.name, 'schema': seq.schema})
        statements.append(_idempotent(str(CreateTable(table).compile(dialect=dialect))))
        for index in sorted(table.indexes, key=lambda ix: ix.name or ''):
            statements.append(_idempotent(str(CreateIndex(index).compile(dialect=dialect))))
        objects[key] = {'name': table.name, 'schema': table.schema, 'sequences': sequences}
    return {'statements': statements, 'objects': objects}


def broker_tables(app, drift):
    """kombu's sqla classes, declared by its own Channel for the configured table names (drift.py
    declares them the way the worker's channel will)."""
    queue_cls, message_cls = drift.kombu_classes(app)
    return _ddl([('queue', queue_cls.__table__), ('message', message_cls.__table__)])


def result_tables(app):
    """Celery's result models, configured as its DatabaseBackend configures them."""
    from celery.backends.database import models
    schemas = app.conf.get('database_table_schemas') or {}
    names = app.conf.get('database_table_names') or {}
    models.Task.configure(schema=schemas.get('task'), name=names.get('task'))
    models.TaskSet.configure(schema=schemas.get('group'), name=names.get('group'))
    return _ddl([('task', models.Task.__table__), ('group', models.TaskSet.__table__)])


def _transport(app):
    """The broker's scheme and kombu transport class, as the worker's connection resolves them."""
    out = {'scheme': None, 'transport_class': None, 'error': None}
    url = app.conf.broker_url
    if isinstance(url, str) and '://' in url:
        out['scheme'] = url.split('://', 1)[0].lower()
    try:
        conn = app.connection_for_write()
        try:
            cls = conn.transport_cls
            if isinstance(cls, str):
                from kombu.transport import resolve_transport
                cls = resolve_transport(cls)
            out['transport_class'] = cls.__module__ + '.' + cls.__name__
        finally:
            conn.release()
    except Exception as exc:
        out['error'] = _last_line(exc)
    return out


def _backend_class(app):
    url = app.conf.result_backend
    if not isinstance(url, str) or not url:
        return None
    try:
        from celery.app.backends import by_url
        cls, _ = by_url(url, app.loader)
        return cls.__module__ + '.' + cls.__name__
    except Exception as exc:
        return 'error: ' + _last_line(exc)


def _version(name):
    try:
        return getattr(__import__(name), '__version__', None)
    except Exception:
        return None


def report(app, transport_override=None, drift=None):
    """The ``schema`` event: versions, transport, backend, and the DDL of each part that applies.
    ``transport_override`` ``'sqla'``: kombu's tables whatever the broker URL says (``--transport``)."""
    transport = _transport(app)
    backend = _backend_class(app)
    out = {'event': 'schema',
           'versions': {'celery': _version('celery'), 'kombu': _version('kombu'),
                        'sqlalchemy': _version('sqlalchemy')},
           'transport': transport, 'backend_class': backend}
    parts = []
    if transport_override == 'sqla' or str(transport['transport_class'] or '').startswith('kombu.transport.sqlalchemy'):
        parts.append(('broker', lambda: broker_tables(app, drift)))
    if str(backend or '').startswith('celery.backends.database'):
        parts.append(('results', lambda: result_tables(app)))
    for key, fn in parts:
        try:
            out[key] = fn()
        except Exception as exc:
            out[key + '_error'] = _last_line(exc)
    return out
