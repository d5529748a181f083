"""Reads a DSN from the environment only when a task runs, in the pool process, long after import.

Clients configured on first use do this: ``REPORTS_URL`` is read by the task
``app.variants.env_in_task.reports_ready`` (the ping task of this variant) each time it runs — in
a prefork child, not at import — to tell whether reports are configured; the reports client
itself is built on the first export, which no ping runs, so nothing connects with it.

Broken when ``REPORTS_URL`` names a superuser or a table owner: the worker's code reads a
credential row-level security does not bind. rls-role must fail naming ``env REPORTS_URL`` and
this module as its reader, although no connection used it. Without the task reading it (the
plain example app), the same variable is only noted as inherited and never read.
Fix: give the reports client a least-privilege role, or keep the variable out of the worker.
"""
import os

from app.factory import make_app

celery_app = make_app()


@celery_app.task(name="app.variants.env_in_task.reports_ready")
def reports_ready():
    """Whether reports are configured (the reports client is built on the first export, not here)."""
    return bool(os.environ.get("REPORTS_URL"))
