"""Liveness tasks: the data-plane ping, a task that always fails (to exercise
the ``celery_task_failed`` log line and the ``worker_failed_jobs`` DLQ), and a
long-running one (to exercise timeouts, cancellation and shutdown)."""
from __future__ import annotations

import time
from typing import Any

from celery import shared_task


@shared_task(name="app.tasks.housekeeping.ping")
def ping(x: Any = None) -> dict[str, Any]:
    """Round-trip probe: proves a worker took the message and stored a result."""
    return {"pong": True, "echo": x}


class DeliberateFailure(RuntimeError):
    """Raised by :func:`fail`."""


@shared_task(name="app.tasks.housekeeping.fail")
def fail(reason: str = "deliberate failure") -> None:
    """Always raises: a failure probe for the DLQ and the failure log line."""
    raise DeliberateFailure(reason)


@shared_task(name="app.tasks.housekeeping.nap")
def nap(seconds: float = 120.0) -> float:
    """Sleeps like a long maintenance job; a warm shutdown waits for it."""
    time.sleep(seconds)
    return seconds


@shared_task(name="app.tasks.housekeeping.fire_and_forget", ignore_result=True)
def fire_and_forget() -> str:
    """Runs, but stores no result (ignore_result=True): a ping through it never comes back."""
    return "done"
