"""Invoice import through the async billing service layer, bridged into a sync task.

The billing service code is ``async`` because the API (an ASGI app) calls it
directly; the Celery task reuses it through a small sync-to-async bridge,
:func:`_run_async`. That bridge has the bug a lot of code bases carry, on
purpose, so that the example test suite can show it (``tests/test_harness_async_bridge.py``):

* In a worker there is no running event loop in the task's thread, so
  :func:`_run_async` takes the ``asyncio.run()`` branch and the invoices are
  written before the task returns. Production works.
* When the task runs *inside* a running loop, it takes the other branch:
  ``loop.create_task(coro)`` schedules the coroutine and returns at once,
  without awaiting it. The task "succeeds" and returns an ``asyncio.Task``
  instead of the invoice ids; the INSERT runs only when that loop gets
  control back, after the caller's code has moved on. That is what
  ``task_always_eager`` does to an async caller: the API handler (or an
  async test) calls ``import_invoices.delay(...)``, eager mode runs the task
  inline, in the caller's own loop, and a check made before the caller next
  yields to the loop finds no row. Nothing raises anywhere. Whether the row
  shows up later is luck: ``asyncio.run()`` cancels still-pending tasks when
  the caller returns (asyncio/runners.py ``_cancel_all_tasks``); here the
  write is already in a thread by then and ``asyncio.run()`` waits for its
  executor, so it lands after the check; an async driver cancelled at an
  ``await`` would lose it.

Fix: never hand the coroutine to a loop you do not drive to completion. When
a loop is already running in this thread, run the coroutine to completion in
a fresh loop on another thread and wait for it::

    import concurrent.futures

    def _run_async(coro_fn, *args, **kwargs):
        coro = coro_fn(*args, **kwargs)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(coro)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, coro).result()

(or keep eager mode away from async callers and test the task with a real
worker). This module is not in ``app.factory.DEFAULT_INCLUDE``, so the worker
the action starts does not register it; the test worker adds it with
``-I app.tasks.invoice_import``.
"""
from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, Awaitable, Callable, Iterable, TypeVar

from celery import shared_task
from sqlalchemy import text

from app.db import get_engine, set_tenant
from app.tasks.invoices import _amount

T = TypeVar("T")


def _store_invoices_sync(tenant_id: str, amounts: list[Decimal]) -> list[int]:
    with get_engine().begin() as conn:
        tid = set_tenant(conn, tenant_id)
        ids = []
        for amount in amounts:
            ids.append(
                int(
                    conn.execute(
                        text(
                            "INSERT INTO invoices (tenant_id, amount)"
                            " VALUES (CAST(:tid AS uuid), :amount) RETURNING id"
                        ),
                        {"tid": tid, "amount": amount},
                    ).scalar_one()
                )
            )
    return ids


async def store_invoices(tenant_id: str, amounts: Iterable[Any]) -> list[int]:
    """Write one tenant's invoices; return their ids (the async service API).

    The database layer is synchronous, so the I/O runs in the default
    executor; callers see a coroutine like any other service call.
    """
    values = [_amount(a) for a in amounts]
    return await asyncio.to_thread(_store_invoices_sync, str(tenant_id), values)


def _run_async(coro_fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> Any:
    """Run an async service function from synchronous task code.

    BUG (deliberate, see the module docstring): inside a running event loop
    this schedules the coroutine and returns the ``asyncio.Task`` without
    awaiting it.
    """
    coro = coro_fn(*args, **kwargs)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        # No loop in this thread (a worker process): run it to completion.
        return asyncio.run(coro)  # type: ignore[arg-type]
    # "asyncio.run() cannot be called from a running event loop", so hand the
    # coroutine to the loop that is already running...
    return loop.create_task(coro)  # type: ignore[arg-type]  # ...and never await it


@shared_task(name="app.tasks.invoice_import.import_invoices")
def import_invoices(tenant_id: str, amounts: list[Any]) -> dict[str, Any]:
    """Import invoices for one tenant through the async billing service."""
    ids = _run_async(store_invoices, tenant_id, amounts)
    return {"tenant_id": str(tenant_id), "invoice_ids": ids}
