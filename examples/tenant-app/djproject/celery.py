"""The Celery app of the Django-style project, as Celery's Django guide writes it.

Settings come from Django's (``CELERY_*`` names, ``namespace='CELERY'``); task modules are found by
``autodiscover_tasks()`` in each of ``INSTALLED_APPS`` (``djproject.billing.tasks``).
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djproject.settings")

app = Celery("djproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
