"""A Django app of the Django-style project; its tasks are autodiscovered (``tasks.py``)."""
