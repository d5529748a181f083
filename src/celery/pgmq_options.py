"""What the app tells kombu's PGMQ transport (``pgmq://``), for the checks made before the worker boots.

Loaded by bootstrap.py by file path (like drift.py), only for a ``pgmq://`` broker. It reads the
app's ``broker_transport_options`` the way kombu's ``kombu/transport/pgmq.py`` does, with kombu's
own defaults, and the ``pgmq`` package's version and the PGMQ version its SQL-only install
bundles (PGMQ records no version in the database when installed that way). It never connects and
never reports a value that can hold a credential (``conn_string`` is only reported as set or not).
Must run on every Python that Celery 5.2+ supports (3.7+).
"""


def _default(name, fallback):
    try:
        from kombu.transport.pgmq import Channel
        return getattr(Channel, name, fallback)
    except Exception:
        return fallback


def report(app):
    options = dict(app.conf.broker_transport_options or {})
    init = options.get('init_extension', _default('default_init_extension', True))
    prefix = options.get('queue_name_prefix', '')
    out = {
        # kombu tests the value for truth (`if init_extension:`), so do we.
        'init_extension': bool(init),
        'queue_name_prefix': prefix if isinstance(prefix, str) else str(prefix),
        'conn_string_set': bool(options.get('conn_string')),
        'package': None,
        'bundled_sql': None,
    }
    try:
        import pgmq
        out['package'] = getattr(pgmq, '__version__', None)
        from pgmq.install import get_embedded_sql_version
        out['bundled_sql'] = get_embedded_sql_version()
    except Exception:
        pass
    return out
