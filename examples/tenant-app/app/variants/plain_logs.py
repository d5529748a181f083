"""Broken (for log shipping): the worker logs Celery's default plain text, not JSON.

The healthy app installs ``app.observability.JsonFormatter`` on every handler
Celery sets up (``after_setup_logger`` / ``after_setup_task_logger``), so each
log record is one JSON object with ``level``, ``logger``, ``message``,
``task_name``, ``task_id``... This app is the same app with that hookup
skipped (``make_app(json_logs=False)``): a ``logging.config`` change, a
``worker_hijack_root_logger`` tweak or a forgotten import does the same in
real projects. The worker works; only its output changes.

What a user sees (Celery 5.7 and 5.2, ``-P solo``)::

    [2026-11-26 01:42:52,784: INFO/MainProcess] Task celery.ping[b3d8...] received
    [2026-11-26 01:42:52,785: INFO/MainProcess] celery_task_started
    [2026-11-26 01:42:52,826: INFO/MainProcess] Task celery.ping[b3d8...] succeeded in 0.04s: 'pong'
    [2026-11-26 01:42:52,826: INFO/MainProcess] celery_task_succeeded

A log pipeline that parses JSON drops or mangles these lines, and the app's own
lifecycle lines (``celery_task_started`` ...) lose their ``task_name`` and
``task_id``: the plain format has no place for ``extra=`` fields. The
SecurityWarning of a worker run as root is plain text again, several lines
long. On Celery 5.2 with Python 3.11 a failed task is worse: the stock
formatter cannot format billiard 3.6's traceback, so instead of ``Task ...
raised unexpected`` the worker prints ``--- Logging error ---`` and some
130 lines of ``AttributeError: '_Code' object has no attribute
'co_positions'`` and call stack (the JSON formatter has a fallback for this).

Fix: keep the JSON formatter hookup (``app.observability`` connected before
the worker sets up logging; ``make_app()`` does it).
"""
from app.factory import make_app

celery_app = make_app(json_logs=False)
