"""Broken: transport options copied from a Redis configuration kill the worker at boot.

``visibility_timeout`` and ``polling_interval`` are common in Redis/SQS settings. kombu's sqla
transport hands every transport option (except its table names and retry settings) to
``sqlalchemy.create_engine()``, which rejects both::

    CRITICAL/MainProcess] Unrecoverable error: TypeError("Invalid argument(s)
    'visibility_timeout','polling_interval' sent to create_engine(), ...")

Fix: remove both options; the sqla transport polls every second and has no visibility timeout.
"""
from app.factory import make_app

celery_app = make_app(broker_transport_options={"visibility_timeout": 3600, "polling_interval": 1})
