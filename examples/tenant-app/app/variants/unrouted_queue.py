"""Broken: a task is routed to a queue that no worker consumes.

The reporting team added ``app.tasks.reports`` and, to keep slow reports
away from invoices, routed it to its own queue::

    task_routes = {..., "app.tasks.reports.*": {"queue": "reports"}}

but did not add ``reports`` to ``task_queues``. Publishing still works:
``task_create_missing_queues`` (on by default) creates the queue when a task
is sent to it. A worker started without ``-Q`` consumes ``app.amqp.queues``
as configured, i.e. ``task_queues`` (``celery`` and ``invoices``), not
every queue some route mentions. So ``build_report`` is registered in the
worker (its banner lists it under ``[tasks]``), yet every message sent to it
waits in ``kombu_message`` (queue ``reports``) forever: no error, no log line,
``.get()`` just times out.

What a user sees: the banner's ``[queues]`` section lists ``celery`` and
``invoices`` only; ``build_report.delay(...)`` returns a task id whose state
stays ``PENDING``.

Fix: declare the queue where the worker reads its defaults::

    task_queues = (..., Queue("reports", Exchange("reports"), routing_key="reports"))

or run a worker for it (``celery -A ... worker -Q reports``), or drop the route.
"""
from app.factory import DEFAULT_INCLUDE, DEFAULT_ROUTES, make_app

celery_app = make_app(
    include=[*DEFAULT_INCLUDE, "app.tasks.reports"],
    task_routes={**{k: dict(v) for k, v in DEFAULT_ROUTES.items()},
                 "app.tasks.reports.*": {"queue": "reports"}},
)
