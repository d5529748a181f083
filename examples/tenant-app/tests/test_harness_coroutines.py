"""Coroutines misused from sync code: a coroutine object where a value was
expected.

Category of the red outcomes: ``harness:async-bridge``.
``app.tasks.invoice_import.store_invoices`` is ``async``; calling it from
sync code without running it returns a coroutine object, and nothing is
written. Tests (or tasks) that do so compare, index or call methods on that
object, and Python says so: ``assert <coroutine object …> == …``,
``'coroutine' object is not subscriptable``, ``'coroutine' object has no
attribute …``. The coroutine never runs (``RuntimeWarning: coroutine … was
never awaited``, which pytest shows among the warnings, not in the JUnit XML).

* ``test_import_batch_totals_via_real_worker``: the same mistake inside a
  task (``app.tasks.batch_import.import_batch_totals``) run by a real worker:
  it returns the coroutine, which the worker cannot serialise as its result.

Fix: ``asyncio.run(store_invoices(...))`` from sync code (or ``await`` it in
async code); ``test_store_invoices_run_to_completion`` passes.
"""
from __future__ import annotations

import asyncio
import uuid

from app.tasks.invoice_import import store_invoices


def test_store_invoices_compared_without_running(app_db):
    tenant = str(uuid.uuid4())
    ids = store_invoices(tenant, ["3.00"])
    assert ids == [1], "one invoice id expected"


def test_store_invoices_indexed_without_running():
    ids = store_invoices(str(uuid.uuid4()), ["3.00"])
    assert ids[0] > 0


def test_store_invoices_result_without_running():
    pending = store_invoices(str(uuid.uuid4()), ["3.00"])
    assert pending.result() is not None


def test_import_batch_totals_via_real_worker(celery_worker_proc):
    result = celery_worker_proc.send("app.tasks.batch_import.import_batch_totals", str(uuid.uuid4()), ["4.00"])
    assert len(result.get(timeout=10, interval=0.1)) == 1


def test_store_invoices_run_to_completion(app_db):
    tenant = str(uuid.uuid4())
    ids = asyncio.run(store_invoices(tenant, ["3.00"]))
    assert len(ids) == 1
