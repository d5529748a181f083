"""Tenant-scoped writes under PostgreSQL row-level security.

``invoices`` has RLS enabled and forced, with the policy
``tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid``
for both USING and WITH CHECK. A task therefore sets the tenant at the start
of its transaction (SET LOCAL semantics, see ``app.db.set_tenant``) and can
only see and write that tenant's rows.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from celery import shared_task
from sqlalchemy import text

from app.db import get_engine, set_tenant


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"amount must be a number, got {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"amount must be finite, got {value!r}")
    return amount


@shared_task(name="app.tasks.invoices.record_invoice")
def record_invoice(tenant_id: str, amount: Any) -> dict[str, Any]:
    """Insert one invoice for ``tenant_id`` and return it (JSON-friendly)."""
    value = _amount(amount)
    with get_engine().begin() as conn:
        tid = set_tenant(conn, tenant_id)
        row = conn.execute(
            text(
                "INSERT INTO invoices (tenant_id, amount)"
                " VALUES (CAST(:tid AS uuid), :amount)"
                " RETURNING id, tenant_id, amount, created_at"
            ),
            {"tid": tid, "amount": value},
        ).mappings().one()
    return {
        "id": int(row["id"]),
        "tenant_id": str(row["tenant_id"]),
        "amount": str(row["amount"]),
        "created_at": row["created_at"].isoformat() if row["created_at"] is not None else None,
    }
