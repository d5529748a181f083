"""Django settings of the Django-style project (the realistic two-connection shape).

Celery's broker and result backend come from ``DATABASE_URL`` (``sqla+`` / ``db+``, as the rest of
the example); the app's own data layer is Django's ``DATABASES``, from its own DSNs:

* ``default``: ``DJANGO_DATABASE_URL`` (falling back to ``DATABASE_URL``). With
  ``CONN_MAX_AGE = 0`` (Django's default, stated) Django opens a connection per task and closes
  it when the task ends: nobody sees it in ``pg_stat_activity`` afterwards.
* ``reports``: only when ``REPORTS_DATABASE_URL`` is set — an alias no task uses during a ping,
  as reporting or analytics aliases often are.

Broken when either DSN names a superuser or a table owner: row-level security does not bind that
role. rls-role must fail naming the alias (``DATABASES['default']``) and the role, used or not.
"""
import os
from urllib.parse import unquote, urlsplit

SECRET_KEY = "example-only-not-a-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["djproject.billing"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def database_from_url(url):
    """A ``DATABASES`` entry from a ``postgresql://`` DSN (what dj-database-url does, for one scheme)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql") and not parts.scheme.startswith("postgresql+"):
        raise ValueError("expected a postgresql:// DSN for DATABASES, got scheme %r" % parts.scheme)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": int(os.environ.get("DJANGO_CONN_MAX_AGE", "0")),
    }


_celery_url = os.environ["DATABASE_URL"]
DATABASES = {"default": database_from_url(os.environ.get("DJANGO_DATABASE_URL") or _celery_url)}
if os.environ.get("REPORTS_DATABASE_URL"):
    DATABASES["reports"] = database_from_url(os.environ["REPORTS_DATABASE_URL"])

CELERY_BROKER_URL = "sqla+" + _celery_url
CELERY_RESULT_BACKEND = "db+" + _celery_url
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
