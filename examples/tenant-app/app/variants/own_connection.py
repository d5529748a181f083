"""The two-connection shape: Celery on ``DATABASE_URL``, the app's data layer on its own DSN.

Real Django and SQLAlchemy projects do this: the broker and result backend use one DSN, the
app's own code reads its tables through another (``DATABASES``, an engine, psycopg directly).
Here the data layer's DSN is ``APP_DATA_URL`` (falling back to ``DATABASE_URL``), and it reads the
invoices table through psycopg 3 (psycopg2 where only that is installed, as in the Celery 5.2
environment) twice, each time on a connection it closes at once — the
short-lived kind nobody sees in ``pg_stat_activity`` when they look later:

* when the module is imported (an app warming a cache or checking its schema at start);
* in each pool process as it starts (``worker_process_init``), as per-process setup does (each
  prefork child; the solo pool fires it in the worker itself).

Broken when ``APP_DATA_URL`` names a superuser or a table owner: row-level security does not
bind that role, so every tenant's invoices are readable, although Celery's own sessions use
``app_user``. rls-role must fail naming the role, this module and psycopg.
Fix: point the data layer at the least-privilege role too (or one held to the same rules and
listed in ``allowed-roles``).
"""
import os

try:
    import psycopg as driver
except ImportError:
    import psycopg2 as driver
from celery.signals import worker_process_init

from app.factory import make_app


def read_invoices():
    url = os.environ.get("APP_DATA_URL") or os.environ["DATABASE_URL"]
    conn = driver.connect(url)
    try:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM invoices")
        return cur.fetchone()[0]
    finally:
        conn.close()


@worker_process_init.connect
def _on_child_start(**_kwargs):
    read_invoices()


read_invoices()
celery_app = make_app()
