"""Broken: results go to the ``rpc://`` backend instead of PostgreSQL.

The worker boots, consumes from PostgreSQL and runs tasks, but results are
sent back as broker messages to the caller's reply queue instead of being
stored in ``celery_taskmeta``. Nothing is persisted: a result can be read only
by the process that sent the task, a verifier that looks for the result row
never finds it, and the banner shows ``results:     rpc://``.

Fix: store results in PostgreSQL (``db+postgresql://...``, derived from
DATABASE_URL); don't override ``result_backend``.
"""
from app.factory import make_app

celery_app = make_app(result_backend="rpc://")
