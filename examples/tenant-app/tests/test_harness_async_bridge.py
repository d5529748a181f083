"""Async code driven from sync task code that never completes.

Category of the failure here: ``harness:async-bridge``. ``import_invoices``
(app/tasks/invoice_import.py) writes through the async billing service via
``_run_async``. In a worker process there is no running event loop, so
``_run_async`` calls ``asyncio.run()`` and the rows are written
(``test_webhook_import_via_real_worker`` passes).

The failing test drives the task the way async code does (an async API
handler, or an async test): ``import_invoices.apply_async(...)`` from inside
a running loop, with ``task_always_eager``. The task then runs inline, in
that loop, and ``_run_async`` takes its other branch, ``loop.create_task(coro)``,
which returns without awaiting. The test checks the row before it yields to
the loop again, so the INSERT has not run: the task reported success, nothing
raised, the row is just missing. (It is written a moment later, after the
check: when the coroutine returns, ``asyncio.run()`` lets the pending task take
its first step, which hands the write to a thread, then cancels it and waits
for the executor. Observed; with a natively async driver the cancellation
would lose the write instead.)

The seed report's hypotheses for its identical failures ("eager mode
prevents async DB writes", "RLS blocks the read") are half right: eager mode
alone does not break the bridge (``test_import_invoices_eager_from_sync_code``
passes), and the read is tenant-scoped, so RLS is not what hides the row.
The trigger is eager mode *plus a running event loop* in the caller, and the
defect is the fire-and-forget branch of ``_run_async``.

Fix: make ``_run_async`` run the coroutine to completion when a loop is
already running (a fresh loop in a worker thread:
``ThreadPoolExecutor(1).submit(asyncio.run, coro).result()``), or test the
task through a real worker instead of eager mode.
"""
from __future__ import annotations

import asyncio
import uuid

from app.celery_app import celery_app
from app.tasks.invoice_import import import_invoices


async def billing_webhook(tenant_id: str, amounts: list[str], queue: str | None = None) -> dict:
    """What the ASGI endpoint does: enqueue the import and answer 202 at once."""
    options = {"queue": queue} if queue else {}
    result = import_invoices.apply_async((tenant_id, amounts), **options)
    return {"status": 202, "task_id": result.id}


def _invoice_amounts(app_db, tenant) -> list[str]:
    rows = app_db.all("SELECT amount FROM invoices WHERE tenant_id = :t ORDER BY id", tenant=tenant, t=tenant)
    return [str(r.amount) for r in rows]


def test_webhook_import_writes_invoices(app_db, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    tenant = str(uuid.uuid4())

    # The body of an async test (what pytest-asyncio or anyio would run as
    # ``async def test_...``; neither is in the pinned requirements, so
    # asyncio.run plays the runner): call the endpoint, then check the row.
    async def scenario():
        response = await billing_webhook(tenant, ["19.99"])
        assert response["status"] == 202

        row = app_db.one("SELECT id, amount FROM invoices WHERE tenant_id = :t", tenant=tenant, t=tenant)
        assert row is not None, "Imported invoice row must exist after the import task ran"

    asyncio.run(scenario())


def test_import_invoices_eager_from_sync_code(eager_app, app_db):
    tenant = str(uuid.uuid4())
    result = import_invoices.delay(tenant, ["5.00", "7.50"])
    assert len(result.get()["invoice_ids"]) == 2
    assert _invoice_amounts(app_db, tenant) == ["5.00", "7.50"]


def test_webhook_import_via_real_worker(celery_worker_proc, app_db):
    tenant = str(uuid.uuid4())
    response = asyncio.run(billing_webhook(tenant, ["19.99"], queue=celery_worker_proc.queue))
    result = import_invoices.AsyncResult(response["task_id"])
    assert len(result.get(timeout=10, interval=0.1)["invoice_ids"]) == 1
    assert _invoice_amounts(app_db, tenant) == ["19.99"]
