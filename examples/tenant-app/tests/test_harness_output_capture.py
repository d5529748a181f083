"""``capsys``/``capfd`` assertions on what a real worker prints.

Category of the red outcomes: ``harness:log-capture``. ``capsys`` captures
``sys.stdout``/``sys.stderr`` of the test process, ``capfd`` its file
descriptors 1 and 2. A worker is another process: its banner and its log
lines go wherever its own stdout and stderr go (here, the files
``celery_worker_proc`` opened for it), never into the test's capture. The
worker did print them; the test looked in the wrong place.

Fix: read the worker's output where it goes
(``celery_worker_proc.stderr_text()``, ``log_records()``), as
``test_worker_banner_in_its_own_output`` does.
"""
from __future__ import annotations

import time


def _wait_for(predicate, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.1)


def test_worker_banner_reaches_capsys(celery_worker_proc, capsys):
    out, err = capsys.readouterr()
    assert "ready." in out + err, "the worker's banner must say it is ready"


def test_worker_task_log_reaches_capfd(celery_worker_proc, capfd):
    result = celery_worker_proc.send("app.tasks.housekeeping.ping", x="capfd")
    result.get(timeout=10, interval=0.1)
    out, err = capfd.readouterr()
    assert result.id in err, "the worker must log the task it ran"


def test_worker_banner_in_its_own_output(celery_worker_proc):
    _wait_for(lambda: "ready." in celery_worker_proc.stderr_text())
    assert "ready." in celery_worker_proc.stderr_text()
