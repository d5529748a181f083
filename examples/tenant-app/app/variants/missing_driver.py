"""Broken: the broker URL names a database driver that is not installed.

The broker is ``sqla+postgresql+pg8000://…``; SQLAlchemy loads the ``pg8000`` module for it when
the worker opens its first channel, and the worker dies at boot::

    CRITICAL/MainProcess] Unrecoverable error: ModuleNotFoundError("No module named 'pg8000'")

The same happens to ``postgresql://`` under SQLAlchemy 2.1 (which maps it to psycopg 3) in an
environment that has only psycopg2.

Fix: install the driver, or name an installed one in the URL (``postgresql+psycopg://``).
"""
from app.factory import database_url, make_app

celery_app = make_app(broker_url="sqla+" + database_url().replace("postgresql://", "postgresql+pg8000://", 1))
