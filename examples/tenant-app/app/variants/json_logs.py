"""Works, and logs JSON records whose encoder escapes ``/`` (ujson's default, as PHP and Java
encoders do): a DSN then reads ``postgresql:\\/\\/user:password@host``. The archive database's
password is built in code from ``APP_ARCHIVE_HINT``, so no registry can know it; only a pattern
that reads the escaped form can cut it. A second record carries the same DSN percent-encoded, as a
query parameter of a health-check URL.

Fix, if it is not wanted: log the URL without its password.
"""
import json
import os
from urllib.parse import quote

from app.factory import make_app

_ARCHIVE_PASSWORD = "ar-" + os.environ.get("APP_ARCHIVE_HINT", "")[::-1]
_ARCHIVE_DSN = f"postgresql://archive:{_ARCHIVE_PASSWORD}@archive.internal:5432/archive"

print(json.dumps({"event": "archive.connect", "dsn": _ARCHIVE_DSN}).replace("/", "\\/"), flush=True)
print(f"health check: GET /ready?next={quote(_ARCHIVE_DSN, safe='')}", flush=True)

celery_app = make_app()
