"""What the run needs to know about kombu's PGMQ transport, from the app's own settings and the
installed packages (never a connection): the transport options that change queue names, reads and
start-up, and the PGMQ version the ``pgmq`` package bundles for a SQL-only install. Loaded by path
from bootstrap.py (``_load_own``), only for a ``pgmq://`` broker; never fatal to the probe."""


def report(app):
    conf = app.conf
    options = conf.broker_transport_options or {}
    out = {
        'queue_name_prefix': str(options.get('queue_name_prefix') or ''),
        # kombu's default is True: CREATE EXTENSION IF NOT EXISTS pgmq on connect.
        'init_extension': bool(options.get('init_extension', True)),
        'visibility_timeout': _number(options.get('visibility_timeout')),
        'conn_string': bool(options.get('conn_string')),
        'package': None,
        'bundled_sql': None,
        # kombu creates these with pgmq.create_partitioned_queue, not pgmq.create: the run must not
        # declare them first as plain queues.
        'partitioned_queues': _partitioned(app),
    }
    try:
        from importlib.metadata import version
        out['package'] = version('pgmq')
    except Exception:
        pass
    try:
        from pgmq.install import get_embedded_sql_version
        out['bundled_sql'] = str(get_embedded_sql_version())[:40]
    except Exception:
        pass
    return out


def _number(value):
    try:
        return None if value in (None, '') else float(value)
    except (TypeError, ValueError):
        return None


def _partitioned(app):
    try:
        queues = app.amqp.queues.values()
        return sorted(str(q.name)[:200] for q in queues if (q.queue_arguments or {}).get('x-pgmq-partitioned'))[:100]
    except Exception:
        return []
