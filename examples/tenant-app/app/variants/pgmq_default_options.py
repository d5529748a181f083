"""Broken PGMQ variant: kombu's pgmq:// transport with its default options.

As ``app.variants.pgmq_broker``, but ``init_extension`` is left at kombu's
default (True): on connect the worker runs ``CREATE EXTENSION IF NOT EXISTS
pgmq CASCADE``. On a SQL-only install of PGMQ (the ``pgmq`` package's
``pgmq.sql``), or for a role that may not create extensions, that kills the
worker at boot; broker-config names it before, with the fix.
"""
from app.factory import database_url, make_app
from app.variants.pgmq_broker import pgmq_url

celery_app = make_app(broker_url=pgmq_url(database_url()))
