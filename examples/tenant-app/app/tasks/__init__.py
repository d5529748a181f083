"""Task modules. Each uses ``celery.shared_task(name=...)`` so that every app
made by ``app.factory.make_app`` (including the broken variants) gets them."""
