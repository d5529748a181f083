"""Broken: the worker starts, prints its banner, and dies before ``ready.``.

A start-up check added to the worker as a bootstep (here: a required service it cannot reach)
raises when the worker starts its components, after the app imported fine, so nothing before
the boot can see it::

    CRITICAL/MainProcess] Unrecoverable error: RuntimeError('startup check failed: the
    billing service at billing.internal:8443 is unreachable')

Celery 5.2 then exits with status 0 (its worker command returns instead of calling ctx.exit;
fixed in 5.3), so only the log shows the failure.

(Transport options that kill the worker at boot are ``app.variants.redis_transport_options``.)

Fix: make the service reachable, or let the check warn instead of raising.
"""
from celery import bootsteps

from app.factory import make_app

celery_app = make_app()


class StartupCheck(bootsteps.StartStopStep):
    """Refuses to start the worker without a service it needs."""

    def start(self, worker):
        raise RuntimeError("startup check failed: the billing service at billing.internal:8443 is unreachable")


celery_app.steps["worker"].add(StartupCheck)
