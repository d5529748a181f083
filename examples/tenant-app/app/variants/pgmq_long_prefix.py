"""Broken: PGMQ with a ``queue_name_prefix`` that pushes queue names past 47 characters.

PGMQ refuses queue names over 47 characters (``pgmq.validate_queue_name``), and
kombu prepends ``queue_name_prefix`` to every queue it declares, the worker's
pidbox queue ``<node name>.celery.pidbox`` included. With this prefix the
worker dies at boot: ``queue name is too long, maximum length is 47
characters``.

Fix: a short prefix (or none), and short node names.
"""
from app.variants.pgmq_broker import pgmq_url
from app.factory import database_url, make_app

celery_app = make_app(
    broker_url=pgmq_url(database_url()),
    broker_transport_options={"init_extension": False, "queue_name_prefix": "tenant-app-production-eu-west-1."},
)
