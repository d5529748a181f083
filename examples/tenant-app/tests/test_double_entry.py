"""One test, two red entries: its call fails and its teardown errors.

pytest writes such a test as two ``<testcase>`` elements with the same name:
the call's ``<failure>`` first, then the teardown's ``<error>`` ("failed on
teardown with …"). They are two failures with two causes, and the action
counts and classifies both:

* the call: ``store_invoices`` (async) called from sync code and its
  coroutine iterated (``'coroutine' object is not iterable``):
  ``harness:async-bridge``;
* the teardown: the ``invoice_audit`` fixture writes its audit row into
  ``invoices`` without scoping the transaction to a tenant, and row-level
  security refuses it (``new row violates row-level security policy``):
  ``foundation:rls-role``.
"""
from __future__ import annotations

import uuid

import pytest

from app.tasks.invoice_import import store_invoices


@pytest.fixture
def invoice_audit(app_db):
    created: list[int] = []
    yield created
    # BUG (deliberate): no tenant is set for this write.
    with app_db.engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO invoices (tenant_id, amount) VALUES ('{uuid.uuid4()}', {len(created)})")


def test_import_and_audit(invoice_audit):
    invoice_audit.extend(store_invoices(str(uuid.uuid4()), ["6.00"]))
    assert len(invoice_audit) == 1
