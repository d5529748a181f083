"""Reporting: a per-tenant invoice summary.

Not in ``app.factory.DEFAULT_INCLUDE``: only ``app.variants.unrouted_queue``
includes it, and routes it to a ``reports`` queue that no worker consumes
(the variant's docstring tells the story and the fix).
"""
from __future__ import annotations

from typing import Any

from celery import shared_task
from sqlalchemy import text

from app.db import get_engine, set_tenant


@shared_task(name="app.tasks.reports.build_report")
def build_report(tenant_id: str) -> dict[str, Any]:
    """Count and total one tenant's invoices (under its RLS scope)."""
    with get_engine().begin() as conn:
        tid = set_tenant(conn, tenant_id)
        row = conn.execute(
            text("SELECT count(*) AS invoices, coalesce(sum(amount), 0) AS total FROM invoices")
        ).mappings().one()
    return {"tenant_id": tid, "invoices": int(row["invoices"]), "total": str(row["total"])}
