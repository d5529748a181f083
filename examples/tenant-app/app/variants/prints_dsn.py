"""Works, but talks too much: the app prints its database URLs while importing, and the worker
logs a connection string with its password once it is ready.

Seen in real projects as a start-up ``print(settings.DATABASE_URL)`` left from debugging, or a
library logging its libpq ``conninfo``. The worker still works; whoever shows its output must not
show the passwords: the ones the environment holds (``DATABASE_URL``,
``APP_REPORTING_DATABASE_URL``), and one it does not hold as such (the legacy database's, built
in code from ``APP_LEGACY_HINT``), which only a pattern (``password=…``) can catch.

Fix, if it is not wanted: remove the prints, log the URL without its password.
"""
import logging
import os
import sys

from celery.signals import worker_ready

from app.factory import make_app

_LEGACY_PASSWORD = "lg-" + os.environ.get("APP_LEGACY_HINT", "")[::-1]

print(f"connecting to {os.environ.get('DATABASE_URL', '')}", flush=True)
print(f"reporting database: {os.environ.get('APP_REPORTING_DATABASE_URL', '')}", file=sys.stderr, flush=True)

celery_app = make_app()


@worker_ready.connect
def _log_legacy_conninfo(**_kwargs) -> None:
    logging.getLogger("app.legacy").warning(
        "legacy database: host=legacy.internal user=legacy password=%s dbname=legacy", _LEGACY_PASSWORD
    )
