"""Row-level security refusing the worker's writes and reads.

Category of the red outcomes here: ``foundation:rls-role``. PostgreSQL
reports both refusals with SQLSTATE 42501 (``InsufficientPrivilege``, the
same class as a missing GRANT), but no privilege is missing: the role is
right, row-level security works, and the policy says no.

* ``test_worker_imports_a_mixed_tenant_batch``: the real worker runs
  ``app.tasks.batch_import.import_batch``, which scopes its transaction to
  the first row's tenant and writes a second tenant's row in it. The
  ``WITH CHECK`` policy on ``invoices`` refuses it (``new row violates
  row-level security policy for table "invoices"``); ``.get()`` re-raises the
  worker's error in the test. Fix: one transaction (one ``set_tenant``) per
  tenant. ``test_worker_imports_a_single_tenant_batch`` passes.
* ``test_app_role_reads_with_row_security_off``: ``SET row_security = off``
  (what ``pg_dump`` does) as a role subject to a policy is refused rather
  than silently filtered: ``query would be affected by row-level security
  policy for table "invoices"``. Fix: read tenant-scoped, as the worker does.
* ``test_seed_invoices_with_row_security_disabled``: a test that turns row-level
  security off to seed rows, as the app role, is refused: only the table's
  owner may (``must be owner of table invoices``). Fix: seed tenant-scoped
  (``app_db.one(..., tenant=…)``), or in the migration owner's setup.

As a SUPERUSER (the ``superuser`` variant) both pass: nothing is enforced,
which is what ``test_foundation.py`` and the ``rls-role`` gate catch.
"""
from __future__ import annotations

import uuid

IMPORT_BATCH = "app.tasks.batch_import.import_batch"


def test_worker_imports_a_mixed_tenant_batch(celery_worker_proc):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    rows = [{"tenant_id": first, "amount": "1.00"}, {"tenant_id": second, "amount": "2.00"}]
    result = celery_worker_proc.send(IMPORT_BATCH, rows)
    assert len(result.get(timeout=10, interval=0.1)["invoice_ids"]) == 2


def test_worker_imports_a_single_tenant_batch(celery_worker_proc):
    tenant = str(uuid.uuid4())
    rows = [{"tenant_id": tenant, "amount": "1.00"}, {"tenant_id": tenant, "amount": "2.00"}]
    result = celery_worker_proc.send(IMPORT_BATCH, rows)
    assert len(result.get(timeout=10, interval=0.1)["invoice_ids"]) == 2


def test_app_role_reads_with_row_security_off(app_db):
    with app_db.engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL row_security = off")
        conn.exec_driver_sql("SELECT count(*) FROM invoices").scalar()


def test_seed_invoices_with_row_security_disabled(app_db):
    with app_db.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE invoices NO FORCE ROW LEVEL SECURITY")
        conn.exec_driver_sql(f"INSERT INTO invoices (tenant_id, amount) VALUES ('{uuid.uuid4()}', 1)")
