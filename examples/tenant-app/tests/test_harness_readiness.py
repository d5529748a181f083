"""A readiness wait that gives up before the worker is ready.

Category of the error here: ``harness:readiness``. This is the seed report's
``test_ping_task_runs_and_persists_result``, which errored in setup with
``RuntimeError: Celery worker not ready: data-plane task execution failed``.
The fixture is the same real-worker fixture the foundation tests use, with a
readiness timeout of 0.3 s instead of 20 s (``indirect`` parametrization).
The worker needs about 1.5-2 s to boot here (import the app, connect to
PostgreSQL, declare its queue, start consuming), so the ``celery.ping`` sent
by ``_wait_for_worker`` is still queued when the deadline passes: the
``.get(timeout=...)`` raises ``celery.exceptions.TimeoutError: The operation
timed out.``, chained as the cause of the RuntimeError, and the worker is
still running (it would have answered). The same test body passes with the
default timeout: ``test_foundation.py::test_ping_result_persisted_in_celery_taskmeta``.

Fix: a readiness deadline that covers a cold start on a loaded runner (tens
of seconds), and stop waiting early only when the worker process has exited.

Not the same thing, with the same RuntimeError: on a broken foundation the
wait fails whatever the timeout. The cause then says why: the worker exited
(``WorkerExitedError``, e.g. ``permission denied for table kombu_message``
in its last log line) or the broker is unreachable (``OperationalError``).
Not always in THIS test, though: on the missing-privilege database the worker
is still alive after 0.3 s (it dies on its first poll, after ``ready.``), so
this error looks exactly like the harness case there; the other tests' setup
errors in the same run show the real cause.
"""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.parametrize(
    "celery_worker_proc", [0.3], indirect=True, ids=["readiness_timeout=0.3s"]
)


def test_ping_task_runs_and_persists_result(celery_worker_proc, app_db):
    result = celery_worker_proc.send("app.tasks.housekeeping.ping", x="readiness")
    assert result.get(timeout=10, interval=0.1) == {"pong": True, "echo": "readiness"}
    row = app_db.one("SELECT status FROM celery_taskmeta WHERE task_id = :task_id", task_id=result.id)
    assert row is not None and row.status == "SUCCESS"
