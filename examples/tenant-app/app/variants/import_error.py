"""Broken: the app module imports a package that is not installed.

This mirrors a missing dependency (a package used by the app but absent from
requirements.txt, or a virtualenv built from stale requirements). The import
gate (``from app.variants.import_error import celery_app``) fails, and the
worker never starts::

    celery -A app.variants.import_error worker
    -> Error: Invalid value for '-A' / '--app':
       Unable to load celery application.
       While trying to load the module app.variants.import_error the following error occurred:
       ... ModuleNotFoundError: No module named 'tenant_billing_sdk'
    (exit code 2, on Celery 5.2 as well as 5.3+)

Fix: add the package to requirements.txt (pinned) and reinstall, or remove
the import.
"""
import tenant_billing_sdk  # noqa: F401  -- not installed anywhere, on purpose

from app.factory import make_app

celery_app = make_app()
