"""Application factory.

Everything the worker needs comes from ONE environment variable::

    DATABASE_URL=postgresql://app_user:secret@127.0.0.1:5432/app

from which the factory derives

* the broker:          ``sqla+<DATABASE_URL>`` (kombu's SQLAlchemy transport)
* the result backend:  ``db+<DATABASE_URL>``   (Celery's database backend)

so both always point at the same PostgreSQL database and role. Variant apps
(see ``app.variants``) call ``make_app(**overrides)`` with a setting or two
changed instead of copying this module.

Routing: two queues, both declared in ``task_queues`` so that a worker started
without ``-Q`` consumes both (it consumes ``app.amqp.queues``, which is
``task_queues``)::

    celery     the default queue: housekeeping tasks, anything unrouted
    invoices   app.tasks.invoices.* (task_routes)

A queue that appears only in ``task_routes`` is created when a task is
*published* to it (``task_create_missing_queues``), never consumed by a worker
without ``-Q``: see ``app.variants.unrouted_queue``.
"""
from __future__ import annotations

import os
from typing import Any, Iterable, Mapping, Optional
from urllib.parse import urlsplit

import celery
from celery import Celery
from kombu import Exchange, Queue

__all__ = [
    "ConfigurationError",
    "DEFAULT_INCLUDE",
    "DEFAULT_QUEUE",
    "DEFAULT_ROUTES",
    "SUPPORTS_RETRY_ON_STARTUP",
    "base_config",
    "database_url",
    "default_queues",
    "make_app",
]

#: Task modules the worker imports (each defines its tasks with shared_task).
DEFAULT_INCLUDE = ("app.tasks.housekeeping", "app.tasks.invoices")

#: Celery's default queue name, stated explicitly (``task_default_queue``).
DEFAULT_QUEUE = "celery"

#: Task name pattern -> queue. Every queue named here must also be in
#: :func:`default_queues`, or no worker started without ``-Q`` consumes it.
DEFAULT_ROUTES: Mapping[str, Mapping[str, str]] = {
    "app.tasks.invoices.*": {"queue": "invoices"},
}

#: ``broker_connection_retry_on_startup`` exists since Celery 5.3. Celery 5.2
#: does not know the setting, so it is only set where it means something.
SUPPORTS_RETRY_ON_STARTUP = (celery.VERSION.major, celery.VERSION.minor) >= (5, 3)

_EXAMPLE_DSN = "postgresql://app_user:secret@127.0.0.1:5432/app"


class ConfigurationError(RuntimeError):
    """The process environment cannot produce a working Celery app."""


def database_url(environ: Optional[Mapping[str, str]] = None) -> str:
    """Return ``DATABASE_URL``, validated as a plain PostgreSQL DSN.

    Raises :class:`ConfigurationError` with an actionable message when the
    variable is unset, empty, already carries a Celery prefix, or is not a
    ``postgresql://`` URL.
    """
    env = os.environ if environ is None else environ
    url = (env.get("DATABASE_URL") or "").strip()
    if not url:
        raise ConfigurationError(
            "DATABASE_URL is not set. Set it to a plain PostgreSQL DSN, e.g. "
            f"DATABASE_URL={_EXAMPLE_DSN} ; the broker (sqla+...) and the "
            "result backend (db+...) are both derived from it."
        )
    scheme = urlsplit(url).scheme.lower()
    if scheme.startswith(("sqla+", "db+")):
        raise ConfigurationError(
            f"DATABASE_URL must be a plain DSN without a Celery prefix, got "
            f"scheme {scheme!r}; the app adds sqla+ / db+ itself."
        )
    if scheme == "postgres":
        raise ConfigurationError(
            "DATABASE_URL uses the scheme 'postgres://', which SQLAlchemy does "
            "not accept; use 'postgresql://' instead."
        )
    if scheme != "postgresql" and not scheme.startswith("postgresql+"):
        raise ConfigurationError(
            f"DATABASE_URL must be a postgresql:// DSN, got scheme {scheme!r} "
            f"(expected something like {_EXAMPLE_DSN})."
        )
    return url


def default_queues() -> tuple[Queue, ...]:
    """The ``task_queues`` of every app: the default queue and ``invoices``.

    New ``Queue`` objects on each call, so that no two apps share (and bind)
    the same instances.
    """
    return (
        Queue(DEFAULT_QUEUE, Exchange(DEFAULT_QUEUE), routing_key=DEFAULT_QUEUE),
        Queue("invoices", Exchange("invoices"), routing_key="invoices"),
    )


def base_config(url: str) -> dict[str, Any]:
    """The settings every app made by :func:`make_app` starts from."""
    config: dict[str, Any] = {
        # PostgreSQL is both the broker and the result store.
        "broker_url": f"sqla+{url}",
        "result_backend": f"db+{url}",
        # JSON on the wire; never accept pickle from the broker.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        # Ack when the task is taken (Celery's default, stated explicitly):
        # the sqla transport has no visibility timeout, so late acks would not
        # bring redelivery anyway.
        "task_acks_late": False,
        # One message at a time per process: a warm shutdown of a prefork
        # worker otherwise re-enqueues prefetched tasks that already ran.
        "worker_prefetch_multiplier": 1,
        # Fill name/args/kwargs/worker/queue in celery_taskmeta, so a result
        # row says which task and which worker produced it.
        "result_extended": True,
        # Routing: the queues a worker consumes by default (no -Q), and which
        # tasks go where. task_routes may only name queues listed here.
        "task_default_queue": DEFAULT_QUEUE,
        "task_queues": default_queues(),
        "task_routes": {pattern: dict(route) for pattern, route in DEFAULT_ROUTES.items()},
    }
    if SUPPORTS_RETRY_ON_STARTUP:
        config["broker_connection_retry_on_startup"] = True
    return config


def make_app(
    *,
    main: str = "app",
    database_url_override: Optional[str] = None,
    include: Optional[Iterable[str]] = None,
    json_logs: bool = True,
    **overrides: Any,
) -> Celery:
    """Build a configured Celery app.

    ``overrides`` are Celery settings (lowercase names) applied on top of
    :func:`base_config`, e.g. ``make_app(result_backend="rpc://")``.
    ``database_url_override`` replaces ``DATABASE_URL`` (tests, scripts);
    ``include`` replaces :data:`DEFAULT_INCLUDE`. ``json_logs=False`` leaves
    Celery's own plain-text log format in place (see
    ``app.observability.set_json_logs``; process-wide, like the signal
    handlers: one app per worker process).
    """
    # Connect the logging/failure signal handlers before any worker starts.
    from app import observability  # (import has side effects)

    observability.set_json_logs(json_logs)

    if database_url_override is None:
        url = database_url()
    else:
        url = database_url({"DATABASE_URL": database_url_override})

    app = Celery(main, include=list(DEFAULT_INCLUDE if include is None else include))
    config = base_config(url)
    config.update(overrides)
    app.conf.update(config)
    return app
