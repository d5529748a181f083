"""The worker entry point: ``celery -A app.celery_app worker -l INFO``.

Importing this module must not raise (the "import gate"), provided
``DATABASE_URL`` is set.
"""
from app.factory import make_app

celery_app = make_app()

__all__ = ["celery_app"]
