"""Log records that never reach pytest's ``caplog``.

Category of the failures here: ``harness:log-capture``. The handlers did run
and did log; the test looked in the wrong place.

1. ``test_worker_logs_are_structured`` is the seed report's red test, written
   the same way: eager mode, ``caplog``, expecting the ``celery_task_started``
   record that the ``task_prerun`` handler (app/observability.py) logs with
   ``task_name``. The seed blamed eager mode ("signal handlers are never
   called"); that is wrong, eager mode sends ``task_prerun``
   (test_harness_eager.py). The true cause is the LEVEL: the record is INFO,
   its logger ``app.celery_app`` has no level of its own, so its effective
   level is the root logger's, WARNING (Python's default; nothing in a test
   process changes it: Celery configures logging only in a worker, via
   ``app.log.setup()``, and ``after_setup_logger`` never fires under pytest).
   ``Logger.info()`` drops the record before any handler sees it, so caplog's
   handler (level 0, attached to the root logger) never gets it; pytest
   lowers the root level only when ``log_level`` / ``--log-level`` or
   ``caplog.set_level()`` asks for it (_pytest/logging.py ``catching_logs``).
   ``propagate`` is not the problem: ``app.celery_app`` propagates to the
   root logger. Fix: ``caplog.set_level(logging.INFO, logger="app.celery_app")``
   (or ``log_level = INFO`` in the pytest configuration), see
   ``test_worker_logs_are_structured_at_info_level``, which passes with the
   same assertion.
2. ``test_real_worker_task_logs_reach_caplog``: a real worker logs in its own
   process, to its own stderr. No level setting brings those records into
   the test process's ``caplog``. Fix: read the worker's output, see
   ``test_real_worker_task_logs_in_worker_stderr``.
3. ``test_eager_task_failure_reaches_the_test`` (Celery 5.2 on Python 3.11
   only): pytest's own log capture turns Celery's failure log record into an
   ``AttributeError`` that replaces the task's exception. See the test.
"""
from __future__ import annotations

import logging
import time

import pytest

from app.celery_app import celery_app
from app.tasks.housekeeping import DeliberateFailure, fail, ping

PING = "app.tasks.housekeeping.ping"


def test_worker_logs_are_structured(caplog, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    ping.delay("structured").get()

    names = {getattr(r, "task_name", None) for r in caplog.records if r.getMessage() == "celery_task_started"}
    assert "app.tasks.housekeeping.ping" in names


def test_worker_logs_are_structured_at_info_level(caplog, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    assert logging.getLogger("app.celery_app").getEffectiveLevel() == logging.WARNING  # why the test above fails
    caplog.set_level(logging.INFO, logger="app.celery_app")
    ping.delay("structured").get()

    names = {getattr(r, "task_name", None) for r in caplog.records if r.getMessage() == "celery_task_started"}
    assert "app.tasks.housekeeping.ping" in names


def test_real_worker_task_logs_reach_caplog(celery_worker_proc, caplog):
    caplog.set_level(logging.INFO)
    result = celery_worker_proc.send(PING, x="where are my logs")
    assert result.get(timeout=10, interval=0.1) == {"pong": True, "echo": "where are my logs"}

    started = {getattr(r, "task_id", None) for r in caplog.records if r.getMessage() == "celery_task_started"}
    assert result.id in started


def test_real_worker_task_logs_in_worker_stderr(celery_worker_proc):
    result = celery_worker_proc.send(PING, x="in stderr")
    assert result.get(timeout=10, interval=0.1) == {"pong": True, "echo": "in stderr"}

    # The result is stored before task_postrun fires: wait briefly for the last line.
    deadline = time.monotonic() + 5
    while True:
        mine = [r for r in celery_worker_proc.log_records() if r.get("task_id") == result.id]
        messages = [r["message"] for r in mine if r.get("logger") == "app.celery_app"]
        if "celery_task_succeeded" in messages or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert messages == ["celery_task_started", "celery_task_succeeded"]
    assert all(r["task_name"] == PING for r in mine if r.get("logger") == "app.celery_app")


def test_eager_task_failure_reaches_the_test(eager_app):
    # Passes on Celery 5.3+. On Celery 5.2 (billiard 3.6) with Python 3.11+
    # it fails with AttributeError: '_Code' object has no attribute
    # 'co_positions', raised from the fail task's own call: Celery logs the
    # failure (ERROR, with the traceback as billiard's picklable stand-in,
    # whose code objects lack co_positions()), pytest's LogCaptureHandler
    # formats the record, formatting fails, and LogCaptureHandler.handleError
    # re-raises (_pytest/logging.py: "Fail the test if the log message is bad").
    # The real exception is only in the "During handling of the above
    # exception" part of the report. billiard 4 (Celery 5.3+) adds
    # co_positions(); -p no:logging also avoids it.
    with pytest.raises(DeliberateFailure):
        fail.delay("eager failure").get()
