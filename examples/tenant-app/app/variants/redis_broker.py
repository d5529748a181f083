"""Broken: the broker is Redis instead of PostgreSQL.

The foundation's contract is "PostgreSQL is the only broker and result
store". This app still stores results in PostgreSQL but takes its tasks from
``redis://localhost:6379/0``. Tasks sent by the rest of the system (to the
``kombu_message`` table) are never consumed.

What you see depends on the environment: without the ``redis`` Python package
(the pinned requirements don't have it) the worker dies at once while
creating the transport; with it, the worker prints the banner with
``transport:   redis://localhost:6379/0`` and retries
``Cannot connect to redis://localhost:6379/0`` for a long time.

Fix: derive the broker from DATABASE_URL (``sqla+postgresql://...``), i.e.
use ``app.celery_app``; don't override ``broker_url``.
"""
from app.factory import make_app

celery_app = make_app(broker_url="redis://localhost:6379/0")
