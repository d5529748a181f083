"""Fixtures for the example suite: a real worker subprocess, eager mode, and a
database helper that connects as the app role.

Everything reads ``DATABASE_URL`` (the app role's plain ``postgresql://`` DSN)
from the environment, exactly like the worker does::

    cd examples/tenant-app
    DATABASE_URL=postgresql://app_user:secret@127.0.0.1:5432/app \\
        ../../.venv/celery-5.7/bin/python -m pytest tests --junitxml=junit.xml

``celery_worker_proc`` starts ``python -m celery -A app.celery_app worker -P solo``
(the interpreter running pytest) with its own node name and queue, and waits
until the worker answered ``celery.ping`` through the broker and the result
backend (the data plane), like the ``_wait_for_worker`` of the project the
seed report describes. The readiness timeout is the fixture's parameter
(``request.param``, default :data:`READINESS_TIMEOUT`); a test module can ask
for a shorter one with
``@pytest.mark.parametrize("celery_worker_proc", [0.3], indirect=True)``.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from app.celery_app import celery_app
from app.db import dispose_engine
from app.factory import database_url

APP_DIR = Path(__file__).resolve().parents[1]

#: Seconds the worker gets to answer ``celery.ping`` (it needs ~1.5-2 s to
#: boot here; the seed used 10 s and still lost the race on a loaded CI runner).
READINESS_TIMEOUT = 20.0

#: The app the test worker runs: ``WORKER_APP`` lets a run start a variant's
#: worker (e.g. ``app.variants.plain_logs``) while the tests use the same code.
WORKER_APP = os.environ.get("WORKER_APP") or "app.celery_app"

#: Task modules the test worker imports on top of the app's own:
#: ``celery.ping`` is not built in, and ``app.tasks.invoice_import`` and
#: ``app.tasks.batch_import`` are not in the app's default include list.
WORKER_INCLUDES = "celery.contrib.testing.tasks,app.tasks.invoice_import,app.tasks.batch_import"


class WorkerExitedError(RuntimeError):
    """The worker process ended while the fixture was waiting for it."""


@dataclass
class WorkerProc:
    """A running ``celery worker`` subprocess and where its output goes."""

    proc: subprocess.Popen
    hostname: str  # the node name, e.g. "t-1a2b3c@myhost"
    queue: str
    stdout_path: Path
    stderr_path: Path
    started_at: float = field(default_factory=time.monotonic)

    def send(self, name: str, *args: Any, **kwargs: Any):
        """Send a task by name to this worker's queue; return its AsyncResult."""
        return celery_app.send_task(name, args=args, kwargs=kwargs, queue=self.queue)

    def stderr_text(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        """The worker's JSON log lines (stderr), parsed; other lines skipped."""
        records = []
        for line in self.stderr_text().splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except ValueError:
                    pass
        return records

    def last_log_line(self) -> str:
        """The worker's last CRITICAL/ERROR record, else its last stderr line."""
        for record in reversed(self.log_records()):
            if record.get("level") in ("CRITICAL", "ERROR"):
                return f"{record['level']} {record.get('logger')}: {record.get('message')}"
        lines = [ln.strip() for ln in self.stderr_text().splitlines() if ln.strip()]
        return lines[-1][:500] if lines else "(no output)"


def _wait_for_worker(worker: WorkerProc, timeout: float) -> None:
    """Wait until the worker ran ``celery.ping`` and its result came back.

    Polls until ``timeout`` seconds have passed; each attempt sends a new
    ping and waits for it at most until the deadline.
    """
    deadline = time.monotonic() + timeout
    last_error: Optional[BaseException] = None
    while time.monotonic() < deadline:
        code = worker.proc.poll()
        if code is not None:
            last_error = WorkerExitedError(
                f"celery worker {worker.hostname} exited with code {code} before answering "
                f"celery.ping; its last log line: {worker.last_log_line()}"
            )
            break
        try:
            result = worker.send("celery.ping")
            remaining = max(0.05, deadline - time.monotonic())
            if result.get(timeout=min(remaining, 2.0), interval=0.1) == "pong":
                return
        except Exception as exc:  # not ready yet (or never will be)
            last_error = exc
            time.sleep(0.1)
    raise RuntimeError("Celery worker not ready: data-plane task execution failed") from last_error


def _stop_worker(worker: WorkerProc) -> None:
    """SIGTERM (warm shutdown), then SIGKILL if it is still there after 10 s."""
    if worker.proc.poll() is None:
        worker.proc.send_signal(signal.SIGTERM)
        try:
            worker.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.proc.kill()
            worker.proc.wait(timeout=10)


def start_worker(directory: Path, readiness_timeout: float) -> Iterator[WorkerProc]:
    """Start a worker, wait until it is ready, yield it, stop it."""
    token = uuid.uuid4().hex[:8]
    hostname = f"t-{token}@{socket.gethostname()}"  # what Celery expands -n t-<token>@%h to
    queue = f"tests-{token}"
    stdout_path = directory / f"worker-{token}.out"
    stderr_path = directory / f"worker-{token}.err"
    command = [
        sys.executable, "-m", "celery", "-A", WORKER_APP, "worker",
        "-P", "solo", "-l", "INFO", "-I", WORKER_INCLUDES,
        "-n", f"t-{token}@%h", "-Q", queue,
    ]
    env = dict(os.environ, PYTHONUNBUFFERED="1")  # DATABASE_URL is inherited
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(command, cwd=APP_DIR, env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
    worker = WorkerProc(proc, hostname, queue, stdout_path, stderr_path)
    try:
        _wait_for_worker(worker, readiness_timeout)
        yield worker
    finally:
        _stop_worker(worker)


@pytest.fixture(scope="session")
def celery_worker_proc(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A real worker (``-P solo``) on its own queue, ready to run tasks."""
    timeout = float(getattr(request, "param", READINESS_TIMEOUT))
    yield from start_worker(tmp_path_factory.mktemp("worker"), timeout)


@pytest.fixture
def eager_app():
    """``celery_app`` with ``task_always_eager=True`` (restored afterwards).

    Tasks then run inline in the test process (``Task.apply``): no broker, no
    worker, and by default no result stored in the backend.
    """
    conf = celery_app.conf
    saved = {key: conf[key] for key in ("task_always_eager", "task_store_eager_result")}
    conf.task_always_eager = True
    try:
        yield celery_app
    finally:
        conf.update(saved)


class AppDB:
    """Queries as the app role (DATABASE_URL): what the worker itself can see."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, poolclass=NullPool)

    def one(self, sql: str, tenant: Optional[str] = None, **params: Any):
        """First row (or None); with ``tenant``, inside a tenant-scoped transaction."""
        with self.engine.begin() as conn:
            if tenant is not None:
                conn.execute(text("SELECT set_config('app.current_tenant_id', :t, true)"),
                             {"t": str(tenant)})
            return conn.execute(text(sql), params).first()

    def scalar(self, sql: str, tenant: Optional[str] = None, **params: Any) -> Any:
        row = self.one(sql, tenant=tenant, **params)
        return None if row is None else row[0]

    def all(self, sql: str, tenant: Optional[str] = None, **params: Any) -> list:
        with self.engine.begin() as conn:
            if tenant is not None:
                conn.execute(text("SELECT set_config('app.current_tenant_id', :t, true)"),
                             {"t": str(tenant)})
            return list(conn.execute(text(sql), params))


@pytest.fixture(scope="session")
def app_db():
    db = AppDB(database_url())
    yield db
    db.engine.dispose()
    dispose_engine()  # the app's own engine, used by tasks run eagerly in this process
