"""Broken: importing the app never finishes.

A module-level call that waits for a service (a settings server, a lock, a
network share) hangs every process that imports the app: the worker never
prints its banner and ``celery -A`` never returns. The import gate reports it
after ``timeout`` seconds instead of hanging CI for hours.

Fix: never block at import time; connect lazily, with a timeout.
"""
import time

from app.factory import make_app


def _wait_for_settings_service() -> None:
    while True:  # the service never answers
        time.sleep(1)


_wait_for_settings_service()
celery_app = make_app()
