"""PGMQ: kombu 5.7's own PostgreSQL transport (``pgmq://``) as the broker.

Same database, same role, same result backend (``db+<DATABASE_URL>``) as
``app.celery_app``; only the broker differs: ``pgmq://`` built from
DATABASE_URL the way the factory builds ``sqla+<DATABASE_URL>``. PGMQ keeps
each queue in tables of its own schema (``pgmq.q_<queue>``, ``pgmq.a_<queue>``,
listed in ``pgmq.meta``), which the worker's role creates when it declares the
queue; see ``sql/variants/pgmq.sql`` for what the migration owner grants.

``init_extension`` is off: kombu would otherwise run ``CREATE EXTENSION IF NOT
EXISTS pgmq`` on connect, which a least-privilege role may not, and which a
SQL-only install of PGMQ (the ``pgmq`` PyPI package's bundled ``pgmq.sql``)
does not need. Needs Celery/kombu 5.7 and the ``pgmq`` package.
"""
from urllib.parse import urlsplit, urlunsplit

from app.factory import database_url, make_app


def pgmq_url(url: str) -> str:
    """``postgresql[+driver]://…`` -> ``pgmq://…`` (kombu picks the transport by scheme)."""
    return urlunsplit(("pgmq",) + tuple(urlsplit(url))[1:])


celery_app = make_app(
    broker_url=pgmq_url(database_url()),
    broker_transport_options={"init_extension": False},
)
