"""Broken: the include list forgets a task module.

``include`` (here ``make_app(include=...)``; ``imports`` or
``autodiscover_tasks`` elsewhere) is how a worker learns which modules define
tasks. This app lists ``app.tasks.housekeeping`` but not ``app.tasks.invoices``,
so ``app.tasks.invoices.record_invoice`` is never imported and never
registered. The worker boots, answers pings and runs housekeeping tasks; the
API still publishes ``record_invoice`` (to the ``invoices`` queue, which this
worker consumes).

What a user sees: the banner's ``[tasks]`` section has no
``app.tasks.invoices.record_invoice``, and each such message is dropped with
one ERROR line (logger ``celery.worker.consumer.consumer``, Celery 5.7 and 5.2)::

    Received unregistered task of type 'app.tasks.invoices.record_invoice'.
    The message has been ignored and discarded.
    Did you remember to import the module containing this task? ...

The worker also stores the failure, so the sender's ``.get()`` raises
``NotRegistered`` (state ``FAILURE``): ``Task of kind
'app.tasks.invoices.record_invoice' never registered, please make sure it's
imported.`` It often
works on a developer machine, where some other import (a test, a shell
session, ``app.tasks.invoice_import``, which imports ``app.tasks.invoices``)
happens to register the task.

Fix: add the module to the include list (``app.factory.DEFAULT_INCLUDE``), or
use ``app.autodiscover_tasks()``.
"""
from app.factory import make_app

celery_app = make_app(include=["app.tasks.housekeeping"])
