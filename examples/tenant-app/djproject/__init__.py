"""A Django-style project: ``celery -A djproject worker``.

Django's convention: the project package exposes its Celery app (``djproject/celery.py``) so that
it is created whenever Django starts and ``shared_task`` binds to it.
"""
from .celery import app as celery_app

__all__ = ["celery_app"]
