"""An SQLAlchemy engine the billing app builds at import, for analytics queries no ping runs.

Built from parts (``ANALYTICS_DB_USER``, ``ANALYTICS_DB_PASSWORD``; server and database of
``DATABASE_URL``), so no DSN-shaped value names its role anywhere: only the engine does. It never
connects during a ping, which is why only the engine itself (tracked where it was created) tells
rls-role which role the worker holds for it. Without ``ANALYTICS_DB_USER`` there is no engine.
"""
import os
from urllib.parse import urlsplit

from sqlalchemy import create_engine
from sqlalchemy.engine import URL

engine = None
if os.environ.get("ANALYTICS_DB_USER"):
    _server = urlsplit(os.environ["DATABASE_URL"])
    engine = create_engine(
        URL.create(
            "postgresql+psycopg",
            username=os.environ["ANALYTICS_DB_USER"],
            password=os.environ.get("ANALYTICS_DB_PASSWORD"),
            host=_server.hostname,
            port=_server.port,
            database=_server.path.lstrip("/"),
        )
    )
