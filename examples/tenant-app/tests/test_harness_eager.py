"""Eager mode (``task_always_eager``) versus a real worker.

Category of the failures here: ``harness:eager-mode``. With
``task_always_eager=True``, ``Task.apply_async()`` calls ``Task.apply()``
(celery/app/task.py 5.7.0 l. 736, 5.2.7 l. 555: ``if
app.conf.task_always_eager: ... return self.apply(...)``), which runs the
task inline through ``build_tracer(..., eager=True)``. There is no broker, no worker and no
consumer, so a test that asserts what only a worker does fails although the
foundation is fine:

* no result row: ``publish_result = not eager and not ignore_result`` unless
  ``task_store_eager_result`` is set (celery/app/trace.py, 5.7.0 l. 480-485;
  5.2.7 l. 333-336), so nothing reaches ``celery_taskmeta``;
* no ``task_received`` (sent only by the worker's consumer strategy,
  celery/worker/strategy.py l. 165 in both versions) and no ``worker_*`` signal.

What eager mode DOES send: ``task_prerun`` / ``task_postrun`` /
``task_success`` / ``task_failure``. ``trace_task`` calls ``send_prerun`` and
``send_postrun`` with no eager guard (celery/app/trace.py 5.7.0 l. 549-551 and
670-673; 5.2.7 l. 437 and 549), as ``test_eager_mode_sends_task_prerun_and_postrun``
shows. A test expecting ``task_prerun`` output in eager mode fails for
another reason (see test_harness_log_capture.py).

Fix: assert worker behaviour against a real worker (``celery_worker_proc``,
see ``test_foundation.py::test_ping_result_persisted_in_celery_taskmeta``), or
make the eager task store its result when only the stored result matters:
``store_eager_result = True`` on the task, or ``task_store_eager_result=True``
in the configuration the app is *created* with (checked:
``make_app(task_always_eager=True, task_store_eager_result=True)`` stores the
row on both versions). Setting it on ``app.conf`` later has no effect:
``Task.bind`` copied it into the task class attribute when the app was
finalized (celery/app/task.py 5.7.0 l. 449 and 479-481, 5.2.7 l. 315 and
334), and the tracer reads the attribute. See
``test_eager_result_stored_after_setting_task_store_eager_result``.

Under a broken foundation these tests fail differently: on Celery 5.7 the
first eager task creates the result backend, whose constructor runs
``create_all()`` on the database (``database_create_tables_at_setup``,
default True; celery/backends/database/__init__.py l. 120-122), retried by
the backend for ~8 s, so with an unreachable database every eager test,
passing ones included, fails with ``OperationalError``. Celery 5.2 creates no
tables at setup: there, eager tests that never touch the database fail (or
pass) exactly as on a healthy one.
"""
from __future__ import annotations

from celery import signals

from app.tasks.housekeeping import ping

PING = "app.tasks.housekeeping.ping"


def test_eager_ping_result_is_stored_in_celery_taskmeta(eager_app, app_db):
    result = ping.delay("stored?")
    assert result.get() == {"pong": True, "echo": "stored?"}

    row = app_db.one("SELECT status FROM celery_taskmeta WHERE task_id = :task_id", task_id=result.id)
    assert row is not None, f"ping result {result.id} must be persisted in celery_taskmeta"


def test_eager_ping_sends_task_received(eager_app):
    received = []

    def on_task_received(sender=None, request=None, **kwargs):
        received.append(request.name)

    signals.task_received.connect(on_task_received, weak=False)
    try:
        ping.delay("received?").get()
    finally:
        signals.task_received.disconnect(on_task_received)

    assert PING in received


def test_eager_mode_sends_task_prerun_and_postrun(eager_app):
    seen = []

    def on_prerun(sender=None, task_id=None, task=None, **kwargs):
        seen.append(("prerun", task.name, task.request.is_eager, task.app.conf.task_always_eager))

    def on_postrun(sender=None, task_id=None, task=None, state=None, **kwargs):
        seen.append(("postrun", task.name, state))

    signals.task_prerun.connect(on_prerun, weak=False)
    signals.task_postrun.connect(on_postrun, weak=False)
    try:
        assert ping.delay("signals").get() == {"pong": True, "echo": "signals"}
    finally:
        signals.task_prerun.disconnect(on_prerun)
        signals.task_postrun.disconnect(on_postrun)

    assert seen == [("prerun", PING, True, True), ("postrun", PING, "SUCCESS")]


def test_eager_result_stored_after_setting_task_store_eager_result(eager_app, app_db):
    # Looks like the documented fix, but does nothing: Task.bind() copies
    # task_store_eager_result into the task class attribute store_eager_result
    # when the app is finalized (celery/app/task.py 5.7.0 l. 449 and 479-481),
    # and the tracer reads the attribute, not the setting.
    eager_app.conf.task_store_eager_result = True  # restored by the eager_app fixture
    result = ping.delay("stored?")
    assert result.get() == {"pong": True, "echo": "stored?"}

    row = app_db.one("SELECT status FROM celery_taskmeta WHERE task_id = :task_id", task_id=result.id)
    assert row is not None, f"ping result {result.id} must be persisted in celery_taskmeta"


def test_eager_result_stored_with_store_eager_result_on_the_task(eager_app, app_db, monkeypatch):
    # What works: the task attribute itself (or task_store_eager_result in the
    # configuration the app is created with, before its tasks are bound).
    monkeypatch.setattr(ping._get_current_object(), "store_eager_result", True)
    result = ping.delay("stored!")
    assert result.get() == {"pong": True, "echo": "stored!"}

    row = app_db.one("SELECT status FROM celery_taskmeta WHERE task_id = :task_id", task_id=result.id)
    assert row is not None, f"ping result {result.id} must be persisted in celery_taskmeta"
    assert row.status == "SUCCESS"  # (Celery 5.2 leaves the name column of an eager result empty)
