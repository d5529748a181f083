"""Deliberately broken Celery apps, one per module, for exercising the gates.

Run any of them exactly like the real app, e.g.::

    celery -A app.variants.redis_broker worker -l INFO -P solo

Each module's docstring says what is wrong and what the fix is. They all
build on ``app.factory.make_app`` with one override (or one bad import), so
the only difference from ``app.celery_app`` is the defect itself.
"""
