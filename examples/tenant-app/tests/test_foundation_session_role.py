"""Which database role the worker's sessions use.

Category of the red outcome: ``foundation:rls-role``. Row-level security
is only as good as the role it applies to: a worker that connects as the
migration owner, a superuser or any role with BYPASSRLS sees every tenant.
This test starts a real worker and compares the roles of its sessions
(``pg_stat_activity.usename`` of the connections it opened) with the role
the deployment expects, ``EXPECTED_WORKER_ROLE`` (by default the role of
``DATABASE_URL``, so it passes when the worker uses the DSN it was given).

Reproduced red with ``EXPECTED_WORKER_ROLE=app_worker``: a deployment whose
worker is meant to run as a dedicated role but was given the app role's DSN.
Fix the worker's DSN (or the expectation), not the test.
"""
from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from app.factory import database_url


def _expected_role() -> str:
    return os.environ.get("EXPECTED_WORKER_ROLE") or unquote(urlsplit(database_url()).username or "")


def test_worker_sessions_use_the_expected_role(celery_worker_proc, app_db):
    # One round trip, so the worker certainly holds its broker and backend connections.
    assert celery_worker_proc.send("celery.ping").get(timeout=10, interval=0.1) == "pong"
    session_users = {
        row.usename
        for row in app_db.all(
            "SELECT usename FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend' AND usename IS NOT NULL"
        )
    }
    expected = _expected_role()
    assert session_users == {expected}, f"the worker's database sessions must use the role {expected}"
