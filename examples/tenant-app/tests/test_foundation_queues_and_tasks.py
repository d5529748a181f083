"""Tasks the foundation cannot run: routed to a queue no worker consumes, or
not registered at all.

* ``test_report_is_built_by_a_worker`` (``foundation:queues`` when the
  ``queues`` gate fails; ``unknown`` otherwise, since a timeout alone names
  no cause): as routed by ``app.variants.unrouted_queue``, ``build_report`` goes to the ``reports`` queue, which no worker consumes
  (the real test worker listens on its own queue, the production worker on
  ``task_queues``). The message waits in ``kombu_message`` and ``.get()``
  times out (``celery.exceptions.TimeoutError: The operation timed out.``):
  nothing in the test is wrong. Fix: declare the queue in ``task_queues`` (or
  run a worker for it, or drop the route).
* ``test_report_task_is_registered`` (``foundation:tasks``): the app's
  include list does not name ``app.tasks.reports``, so the task is not
  registered (``celery.exceptions.NotRegistered``), in the test process as in
  the worker. Fix: add the module to the app's ``include``.
"""
from __future__ import annotations

import uuid

from app.celery_app import celery_app


def test_report_is_built_by_a_worker(celery_worker_proc):
    # Where the route of app.variants.unrouted_queue sends it (that app is not imported here:
    # a second app would become the current one for the rest of the session).
    result = celery_app.send_task("app.tasks.reports.build_report", args=[str(uuid.uuid4())], queue="reports")
    assert result.get(timeout=3, interval=0.2)["invoices"] == 0


def test_report_task_is_registered():
    task = celery_app.tasks["app.tasks.reports.build_report"]
    assert task.name == "app.tasks.reports.build_report"
