"""Broken: the app's settings reject a database URL, and the error quotes it, password included.

Settings libraries quote the value they reject: pydantic 2's ValidationError reads
``input_value='postgresql://reporting:<password>@reporting.internal/reports'``. Here the app
validates its reporting database's URL (``APP_REPORTING_DATABASE_URL``, a DSN the worker never
connects with) at import and raises an error of the same shape (pydantic itself is not one of the
example's requirements). The import gate fails, and the error must be shown without the password.

Fix: give the setting a value it accepts (here: ``?sslmode=require``).
"""
import os


class ValidationError(ValueError):
    """pydantic 2's message format, with the error URL line left out (PYDANTIC_ERRORS_INCLUDE_URL=0)."""


def _reporting_database_url() -> str:
    url = os.environ.get("APP_REPORTING_DATABASE_URL", "")
    if "sslmode=require" not in url:
        raise ValidationError(
            "1 validation error for Settings\n"
            "reporting_database_url\n"
            "  Value error, the reporting database must be reached with sslmode=require "
            f"[type=value_error, input_value={url!r}, input_type=str]"
        )
    return url


REPORTING_DATABASE_URL = _reporting_database_url()

from app.factory import make_app  # noqa: E402  -- after the settings, as apps load them

celery_app = make_app()
