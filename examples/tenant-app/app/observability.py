"""Structured JSON logs and the dead-letter table, wired to Celery signals.

* ``after_setup_logger`` / ``after_setup_task_logger``: every handler Celery
  installs gets :class:`JsonFormatter`, so the worker's log stream is one JSON
  object per line, e.g.::

    {"level": "ERROR", "logger": "app.celery_app", "message": "celery_task_failed",
     "task_name": "app.tasks.housekeeping.fail", "task_id": "...", ...}

* ``task_prerun`` / ``task_postrun`` / ``task_failure``: log
  ``celery_task_started`` / ``celery_task_succeeded`` / ``celery_task_failed``
  with the task name and id.
* ``task_failure`` also writes a row to ``worker_failed_jobs`` (the DLQ). That
  write is best effort: the handler never raises, whatever the database says.
* Python warnings printed before Celery's logging is set up (the root
  SecurityWarning, for one) are written as JSON lines too (``py.warnings``).

``set_json_logs(False)`` (what ``make_app(json_logs=False)`` calls, see
``app.variants.plain_logs``) skips the formatter hookup and the JSON warnings:
the worker then logs in Celery's default plain-text format. The lifecycle
lines and the DLQ write stay.

Not covered, because Celery prints them with ``print()``, not logging: the
startup banner (stdout) and, on Celery 5.2 only, the ``worker: Warm shutdown
(MainProcess)`` line on stderr (5.4+ prints it on stdout).

Signals are process-global, so every app made by ``app.factory.make_app``
shares these handlers; ``dispatch_uid`` keeps them from being connected twice.
"""
from __future__ import annotations

import json
import logging
import multiprocessing
import re
import sys
import threading
import time
import traceback as traceback_mod
import warnings
from datetime import datetime, timezone
from typing import Any, Mapping, Optional

from celery import signals
from celery._state import get_current_task

#: The logger the lifecycle events are written to (the name the seed's gates
#: look for: ``"logger": "app.celery_app"``).
logger = logging.getLogger("app.celery_app")

# Attributes every LogRecord has; anything else on a record came from
# ``extra=`` and is copied into the JSON object.
_RECORD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "taskName"}

# Celery's way of naming a task in log text: ``name[id]`` (task ids are UUIDs
# unless the caller chose one; only UUIDs are recognised here).
# The lookbehind makes a match start only at the start of a name: without it,
# every position inside a long word is tried and backtracked (quadratic; a
# worker printing 1000-character lines spent 14 ms per line here).
_TASK_REF = re.compile(
    r"(?<![\w.:-])(?P<name>[A-Za-z_][\w.:-]*)\[(?P<id>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\]"
)

# Celery's own task log lines carry their context in ``extra={"data": {...}}``;
# it is mined for task_name/task_id but not copied whole (it repeats the
# message and, for failures, the whole traceback).
_SKIPPED_EXTRAS = frozenset({"data"})


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object on one line.

    Keys: ``level``, ``logger``, ``message``, then ``task_name``/``task_id``
    when known (see :meth:`_task_context`), any other ``extra=`` fields, ``process``,
    ``ts``, and ``exc_info`` holding the formatted exception text (json.dumps
    escapes its newlines, so a record stays one line).
    """

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format must not lose the record
            message = f"{record.msg!r} % {record.args!r}"

        payload: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }

        task_name, task_id = self._task_context(record)
        if task_name is not None:
            payload["task_name"] = task_name
        if task_id is not None:
            payload["task_id"] = task_id

        for key, value in record.__dict__.items():
            if key in _RECORD_ATTRS or key in _SKIPPED_EXTRAS or key.startswith("_"):
                continue
            payload.setdefault(key, value)

        payload["process"] = record.processName
        payload["ts"] = datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(
            timespec="milliseconds"
        )
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exc_info"] = record.exc_text
        if record.stack_info:
            payload["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(payload, default=_json_default, ensure_ascii=False)

    def formatException(self, ei: Any) -> str:
        try:
            return super().formatException(ei)
        except Exception:
            # Celery 5.2 logs task failures with billiard 3.6's picklable
            # stand-in tracebacks, whose code objects lack co_positions(),
            # which Python 3.11's traceback module needs; the stock formatter
            # then fails with "--- Logging error ---". Walk the frames by hand.
            return _format_exception_fallback(ei)

    @staticmethod
    def _task_context(record: logging.LogRecord) -> tuple[Optional[str], Optional[str]]:
        """The task a record is about, so that every line about a task carries it.

        In order: ``extra={"task_name": ..., "task_id": ...}`` (the lifecycle
        lines); Celery's ``extra={"data": {"name", "id"}}`` (``Task ...
        received`` / ``succeeded`` / ``raised``); the task executing in this
        thread (anything a task logs); message headers among the record's
        ``args`` (``Received unregistered task of type ...``); last, Celery's
        ``name[id]`` notation in the text (``Hard time limit (1s) exceeded
        for name[id]``, ``Discarding revoked task: name[id]``), which the
        worker's main process logs with no other context.
        """
        name = getattr(record, "task_name", None)
        tid = getattr(record, "task_id", None)
        data = getattr(record, "data", None)
        if isinstance(data, dict):
            name = name or data.get("name")
            tid = tid or data.get("id")
        if name is None or tid is None:
            try:
                task = get_current_task()
            except Exception:
                task = None
            if task is not None:
                request = getattr(task, "request", None)
                name = name or getattr(task, "name", None)
                tid = tid or getattr(request, "id", None)
        if name is None or tid is None:
            args = record.args if isinstance(record.args, tuple) else ()
            for arg in args:
                if isinstance(arg, Mapping) and "task" in arg and "id" in arg:
                    name = name or arg.get("task")
                    tid = tid or arg.get("id")
                    break
        if name is None or tid is None:
            try:
                message = record.getMessage()
                found = _TASK_REF.search(message) if "[" in message else None
            except Exception:
                found = None
            if found is not None:
                name = name or found.group("name")
                tid = tid or found.group("id")
        return (
            None if name is None else str(name),
            None if tid is None else str(tid),
        )


def _format_exception_fallback(ei: Any) -> str:
    try:
        etype, value, tb = ei
        lines = ["Traceback (most recent call last):\n"]
        while tb is not None:
            code = tb.tb_frame.f_code
            lines.append(f'  File "{code.co_filename}", line {tb.tb_lineno}, in {code.co_name}\n')
            tb = tb.tb_next
        lines.extend(traceback_mod.format_exception_only(etype, value))
        return "".join(lines).rstrip("\n")
    except Exception:
        return repr(ei)


def _json_showwarning(message: Any, category: Any, filename: str, lineno: int,
                      file: Any = None, line: Optional[str] = None) -> None:
    """Print a Python warning as one JSON line, like a log record.

    Warnings raised before Celery sets up logging (e.g. the SecurityWarning a
    worker started as root emits) would otherwise be printed as several
    plain-text lines in the middle of the JSON stream. Once Celery's logging
    is set up it routes warnings through the ``py.warnings`` logger (and so
    through :class:`JsonFormatter`) instead.
    """
    stream = file if file is not None else sys.stderr
    if stream is None:
        return
    payload = {
        "level": "WARNING",
        "logger": "py.warnings",
        "message": f"{getattr(category, '__name__', category)}: {message}",
        "location": f"{filename}:{lineno}",
        "process": multiprocessing.current_process().name,
        "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
    }
    try:
        stream.write(json.dumps(payload, default=_json_default, ensure_ascii=False) + "\n")
        stream.flush()
    except Exception:
        pass


_plain_showwarning = warnings.showwarning
warnings.showwarning = _json_showwarning

#: Whether the after_setup_logger handlers install JsonFormatter (see set_json_logs).
_json_logs = True


def set_json_logs(enabled: bool) -> None:
    """Turn the JSON log format on (the default) or off, for this process.

    Off: Celery's handlers keep their plain-text formatter
    (``[2026-01-01 12:00:00,000: INFO/MainProcess] ...``) and Python warnings
    are printed the stock way. Must be called before the worker sets up its
    logging (``make_app`` does). Signals are process-global, so this is too.
    """
    global _json_logs
    if bool(enabled) == _json_logs:
        return
    _json_logs = bool(enabled)
    warnings.showwarning = _json_showwarning if _json_logs else _plain_showwarning


def _use_json_formatter(logger: logging.Logger, **_: Any) -> None:
    if not _json_logs:
        return
    formatter = JsonFormatter()
    for handler in logger.handlers:
        handler.setFormatter(formatter)


@signals.after_setup_logger.connect(dispatch_uid="tenant_app.json_root_logger")
def _json_root_logger(sender: Any = None, logger: Optional[logging.Logger] = None, **kwargs: Any) -> None:
    if logger is not None:
        _use_json_formatter(logger)


@signals.after_setup_task_logger.connect(dispatch_uid="tenant_app.json_task_logger")
def _json_task_logger(sender: Any = None, logger: Optional[logging.Logger] = None, **kwargs: Any) -> None:
    if logger is not None:
        _use_json_formatter(logger)


# task_id -> monotonic start time, for duration_ms (one process, many threads
# at most, so a lock is enough).
_started: dict[str, float] = {}
_started_lock = threading.Lock()


def _task_name(task: Any, sender: Any = None) -> str:
    return str(getattr(task, "name", None) or getattr(sender, "name", None) or "unknown")


@signals.task_prerun.connect(dispatch_uid="tenant_app.task_prerun")
def _on_task_prerun(sender: Any = None, task_id: Optional[str] = None, task: Any = None, **kwargs: Any) -> None:
    try:
        with _started_lock:
            _started[str(task_id)] = time.monotonic()
        logger.info(
            "celery_task_started",
            extra={"task_name": _task_name(task, sender), "task_id": task_id},
        )
    except Exception:  # logging must never break a task
        pass


@signals.task_postrun.connect(dispatch_uid="tenant_app.task_postrun")
def _on_task_postrun(
    sender: Any = None,
    task_id: Optional[str] = None,
    task: Any = None,
    state: Optional[str] = None,
    **kwargs: Any,
) -> None:
    try:
        with _started_lock:
            started = _started.pop(str(task_id), None)
        extra: dict[str, Any] = {
            "task_name": _task_name(task, sender),
            "task_id": task_id,
            "state": state,
        }
        if started is not None:
            extra["duration_ms"] = round((time.monotonic() - started) * 1000, 3)
        if state == "SUCCESS":
            logger.info("celery_task_succeeded", extra=extra)
        elif state != "FAILURE":  # FAILURE is logged by the task_failure handler
            logger.info("celery_task_finished", extra=extra)
    except Exception:
        pass


@signals.task_failure.connect(dispatch_uid="tenant_app.task_failure")
def _on_task_failure(
    sender: Any = None,
    task_id: Optional[str] = None,
    exception: Optional[BaseException] = None,
    einfo: Any = None,
    **kwargs: Any,
) -> None:
    task_name = _task_name(None, sender)
    error = _describe(exception)
    tb = _traceback_text(exception, einfo)
    try:
        logger.error(
            "celery_task_failed",
            extra={"task_name": task_name, "task_id": task_id, "error": error},
        )
    except Exception:
        pass
    record_failed_job(task_id=task_id, task_name=task_name, error=error, traceback=tb)


def _describe(exception: Optional[BaseException]) -> str:
    if exception is None:
        return "unknown error"
    text = str(exception)
    return f"{type(exception).__name__}: {text}" if text else type(exception).__name__


def _traceback_text(exception: Optional[BaseException], einfo: Any) -> Optional[str]:
    tb = getattr(einfo, "traceback", None)
    if tb:
        return str(tb)
    if exception is not None and exception.__traceback__ is not None:
        return "".join(
            traceback_mod.format_exception(type(exception), exception, exception.__traceback__)
        )
    return None


def record_failed_job(
    *,
    task_id: Optional[str],
    task_name: str,
    error: str,
    traceback: Optional[str] = None,
) -> bool:
    """Insert one row into ``worker_failed_jobs``; return whether it worked.

    Best effort: any problem (no table, no privilege, database down, bad
    DATABASE_URL) is logged as ``dlq_write_failed`` and swallowed.
    """
    try:
        from sqlalchemy import text

        from app.db import get_engine

        with get_engine().begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO worker_failed_jobs (task_id, task_name, error, traceback)"
                    " VALUES (:task_id, :task_name, :error, :traceback)"
                ),
                {
                    "task_id": str(task_id) if task_id is not None else "unknown",
                    "task_name": task_name,
                    "error": error,
                    "traceback": traceback,
                },
            )
        return True
    except Exception as exc:  # never raise from a signal handler
        try:
            logger.warning(
                "dlq_write_failed",
                extra={"task_name": task_name, "task_id": task_id, "error": _describe(exc)},
            )
        except Exception:
            pass
        return False
