"""A data-layer connection that goes around every Python driver: libpq called through ctypes.

The action's in-process record (connections.py) wraps psycopg, psycopg2 and SQLAlchemy; code that
calls libpq itself (ctypes, a C extension, a ``psql`` subprocess) is not seen by it. This variant
does that in each pool process as it starts (``worker_process_init``; the solo pool fires it in
the worker itself): it opens a session on ``APP_DATA_URL`` (falling back to ``DATABASE_URL``)
with the libpq that psycopg's (or psycopg2's) binary wheel ships, holds it for
``BYPASS_HOLD_SECONDS`` (1.5 s by default), and closes it. ``BYPASS_APPLICATION_NAME``, when set,
gives the session an application_name of its own; otherwise libpq takes ``PGAPPNAME`` from the
environment like any client.

Broken when ``APP_DATA_URL`` names a superuser: row-level security does not bind it. rls-role
must still fail, naming the role, from its samples of ``pg_stat_activity`` during the run.
Fix: point the data layer at the least-privilege role.
"""
import ctypes
import ctypes.util
import glob
import importlib.util
import os
import time

from celery.signals import worker_process_init

from app.factory import make_app


def _libpq():
    for package in ("psycopg_binary", "psycopg2"):
        spec = importlib.util.find_spec(package)
        if spec and spec.origin:
            site = os.path.dirname(os.path.dirname(spec.origin))
            for path in sorted(glob.glob(os.path.join(site, package.replace("psycopg2", "psycopg2_binary") + ".libs", "libpq*.so*"))):
                return ctypes.CDLL(path)
    found = ctypes.util.find_library("pq")
    return ctypes.CDLL(found) if found else None


def hold_session():
    libpq = _libpq()
    if libpq is None:
        raise RuntimeError("bypass_hooks: no libpq to load")
    libpq.PQconnectdb.restype = ctypes.c_void_p
    libpq.PQconnectdb.argtypes = [ctypes.c_char_p]
    libpq.PQstatus.argtypes = [ctypes.c_void_p]
    libpq.PQfinish.argtypes = [ctypes.c_void_p]
    url = os.environ.get("APP_DATA_URL") or os.environ["DATABASE_URL"]
    name = os.environ.get("BYPASS_APPLICATION_NAME")
    if name:
        url += ("&" if "?" in url else "?") + "application_name=" + name
    conn = libpq.PQconnectdb(url.encode())
    try:
        if libpq.PQstatus(conn) != 0:  # CONNECTION_OK
            raise RuntimeError("bypass_hooks: libpq could not connect")
        time.sleep(float(os.environ.get("BYPASS_HOLD_SECONDS", "1.5")))
    finally:
        libpq.PQfinish(conn)


@worker_process_init.connect
def _on_child_start(**_kwargs):
    hold_session()


celery_app = make_app()
