"""Foundation tests: they PASS on a healthy database and FAIL when the
foundation itself is broken. A failure here is a foundation failure, not a
test-harness problem.

* ``superuser`` variant (wrong role): the app role bypasses row-level
  security, so ``test_no_invoices_visible_without_tenant`` and
  ``test_tenant_sees_only_its_own_invoices`` see other tenants' rows, and
  ``test_app_role_is_not_superuser_and_cannot_bypass_rls`` says why.
* ``missing-privilege`` variant (UPDATE on ``kombu_message`` revoked): the
  worker logs ``ready.`` and dies on its first poll (``permission denied for
  table kombu_message``), so every real-worker test errors in setup, and
  ``test_app_role_can_lock_broker_messages`` fails with the permission error.
* unreachable database: every test that touches it fails with
  ``OperationalError ... Connection refused``.
"""
from __future__ import annotations

import time
import uuid

HOUSEKEEPING_PING = "app.tasks.housekeeping.ping"
RECORD_INVOICE = "app.tasks.invoices.record_invoice"


def test_celery_ping_round_trip_via_real_worker(celery_worker_proc):
    assert celery_worker_proc.send("celery.ping").get(timeout=10, interval=0.1) == "pong"


def test_ping_result_persisted_in_celery_taskmeta(celery_worker_proc, app_db):
    result = celery_worker_proc.send(HOUSEKEEPING_PING, x="persisted")
    assert result.get(timeout=10, interval=0.1) == {"pong": True, "echo": "persisted"}

    row = app_db.one(
        "SELECT status, name, worker FROM celery_taskmeta WHERE task_id = :task_id",
        task_id=result.id,
    )
    assert row is not None, f"no celery_taskmeta row for task {result.id}"
    assert (row.status, row.name, row.worker) == ("SUCCESS", HOUSEKEEPING_PING, celery_worker_proc.hostname)


def test_failed_task_lands_in_dead_letter_table(celery_worker_proc, app_db):
    result = celery_worker_proc.send("app.tasks.housekeeping.fail", reason="dlq probe")
    result.get(timeout=10, interval=0.1, propagate=False)
    assert result.state == "FAILURE"

    # The task_failure handler writes the row; give it a moment after the result.
    deadline = time.monotonic() + 5
    row = None
    while row is None and time.monotonic() < deadline:
        row = app_db.one("SELECT task_name, error FROM worker_failed_jobs WHERE task_id = :id", id=result.id)
        if row is None:
            time.sleep(0.1)
    assert row is not None, f"no worker_failed_jobs row for failed task {result.id}"
    assert (row.task_name, row.error) == ("app.tasks.housekeeping.fail", "DeliberateFailure: dlq probe")


def test_app_role_is_not_superuser_and_cannot_bypass_rls(app_db):
    row = app_db.one("SELECT current_user AS role, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    assert (row.rolsuper, row.rolbypassrls) == (False, False), (
        f"the app role {row.role} must be NOSUPERUSER NOBYPASSRLS: row-level security does not apply to it"
    )


def test_no_invoices_visible_without_tenant(celery_worker_proc, app_db):
    for tenant in (uuid.uuid4(), uuid.uuid4()):
        celery_worker_proc.send(RECORD_INVOICE, str(tenant), "10.00").get(timeout=10, interval=0.1)

    visible = app_db.scalar("SELECT count(*) FROM invoices")
    assert visible == 0, f"{visible} invoices visible without app.current_tenant_id (tenant isolation broken)"


def test_tenant_sees_only_its_own_invoices(celery_worker_proc, app_db):
    mine, other = uuid.uuid4(), uuid.uuid4()
    celery_worker_proc.send(RECORD_INVOICE, str(mine), "1.00").get(timeout=10, interval=0.1)
    celery_worker_proc.send(RECORD_INVOICE, str(other), "2.00").get(timeout=10, interval=0.1)

    tenants = {r.tenant_id for r in app_db.all("SELECT DISTINCT tenant_id FROM invoices", tenant=mine)}
    assert tenants == {mine}, "a tenant-scoped transaction must see only its own tenant's invoices"


def test_app_role_can_lock_broker_messages(app_db):
    """The worker claims a message with SELECT ... FOR UPDATE, which needs UPDATE."""
    app_db.all("SELECT id FROM kombu_message WHERE false FOR UPDATE")
