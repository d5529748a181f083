"""Batch import tasks with two bugs a lot of code bases carry, on purpose, so
that the example suite can show what they look like from a test
(``tests/test_foundation_rls_refusal.py``, ``tests/test_harness_coroutines.py``).

* :func:`import_batch` scopes its transaction to the tenant of the *first*
  row and then writes every row in it. Row-level security (``invoices``'
  ``WITH CHECK`` policy) refuses the first row of any other tenant:
  ``new row violates row-level security policy for table "invoices"``. The
  worker is right to fail: a batch must be split per tenant, one transaction
  (one ``set_tenant``) each.
* :func:`import_batch_totals` calls the async service API from sync code and
  returns its result without awaiting it: the task returns a coroutine
  object, which the worker cannot serialise, and the coroutine never runs.

Not in ``app.factory.DEFAULT_INCLUDE`` (the worker the action starts does not
register it); the test worker adds it with ``-I app.tasks.batch_import``.
"""
from __future__ import annotations

from typing import Any

from celery import shared_task
from sqlalchemy import text

from app.db import get_engine, set_tenant
from app.tasks.invoice_import import store_invoices
from app.tasks.invoices import _amount


@shared_task(name="app.tasks.batch_import.import_batch")
def import_batch(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Import ``[{"tenant_id": …, "amount": …}, …]`` in one transaction.

    BUG (deliberate): the tenant is set once, from the first row.
    """
    if not rows:
        return {"invoice_ids": []}
    ids = []
    with get_engine().begin() as conn:
        set_tenant(conn, rows[0]["tenant_id"])
        for row in rows:
            ids.append(
                int(
                    conn.execute(
                        text("INSERT INTO invoices (tenant_id, amount) VALUES (CAST(:tid AS uuid), :amount) RETURNING id"),
                        {"tid": str(row["tenant_id"]), "amount": _amount(row["amount"])},
                    ).scalar_one()
                )
            )
    return {"invoice_ids": ids}


@shared_task(name="app.tasks.batch_import.import_batch_totals")
def import_batch_totals(tenant_id: str, amounts: list[Any]) -> Any:
    """Import one tenant's amounts through the async service and return the ids.

    BUG (deliberate): ``store_invoices`` is a coroutine function; calling it
    from sync code without running it returns a coroutine object.
    """
    return store_invoices(tenant_id, amounts)
