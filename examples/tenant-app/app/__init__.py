"""Tenant example service: a multi-tenant Celery app on PostgreSQL.

PostgreSQL is both the broker (kombu's SQLAlchemy transport, ``sqla+``) and
the result backend (Celery's database backend, ``db+``). Everything is derived
from one environment variable, ``DATABASE_URL``. See ``app.factory``.
"""
