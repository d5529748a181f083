"""Application database access (tenant tables, DLQ): one SQLAlchemy engine per process.

The engine is created lazily from ``DATABASE_URL`` on first use. Prefork
worker children are forked from the parent: a child must never reuse the
parent's pooled connections (two processes on one socket corrupt the
protocol stream), so the engine remembers the PID that created it and a
forked child builds its own, after dropping the inherited pool with
``dispose(close=False)`` (which leaves the parent's sockets alone).
"""
from __future__ import annotations

import os
import threading
import uuid
from typing import Any, Optional

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

from app.factory import database_url

__all__ = ["get_engine", "dispose_engine", "set_tenant"]

_lock = threading.Lock()
_engine: Optional[Engine] = None
_engine_pid: Optional[int] = None


def get_engine() -> Engine:
    """Return this process's engine, creating it on first use."""
    global _engine, _engine_pid
    pid = os.getpid()
    engine = _engine
    if engine is not None and _engine_pid == pid:
        return engine
    with _lock:
        if _engine is not None and _engine_pid != pid:
            # Inherited across fork: forget the parent's pool without closing it.
            _engine.dispose(close=False)
            _engine = None
        if _engine is None:
            _engine = create_engine(
                database_url(),
                pool_pre_ping=True,
                pool_size=2,
                max_overflow=2,
            )
            _engine_pid = pid
        return _engine


def dispose_engine() -> None:
    """Close this process's pooled connections (tests, shutdown)."""
    global _engine, _engine_pid
    with _lock:
        if _engine is not None and _engine_pid == os.getpid():
            _engine.dispose()
        _engine = None
        _engine_pid = None


def set_tenant(conn: Connection, tenant_id: Any) -> str:
    """Scope the current transaction to one tenant and return its id.

    ``set_config(..., true)`` is ``SET LOCAL``: the setting ends with the
    transaction, so a pooled connection handed to the next task carries no
    tenant. Call it inside ``engine.begin()``; outside a transaction it would
    last only for its own statement.
    """
    tid = str(uuid.UUID(str(tenant_id)))  # ValueError for anything not a UUID
    conn.execute(text("SELECT set_config('app.current_tenant_id', :tid, true)"), {"tid": tid})
    return tid


def _after_fork_in_child() -> None:
    # A lock held by another thread at fork time would stay held forever in
    # the child; give the child a fresh one. The engine itself is replaced
    # lazily by get_engine() thanks to the PID check.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
