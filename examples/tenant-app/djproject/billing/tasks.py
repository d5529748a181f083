"""Tasks of the billing app: they read the tenant table through Django's own connection."""
from celery import shared_task
from django.db import connection

from djproject.billing import analytics  # noqa: F401 - builds its engine at import
from djproject.billing import maintenance  # noqa: F401 - reads MIGRATIONS_DATABASE_URL at import


@shared_task
def count_invoices():
    """The invoices this connection's role may see (none without a tenant, under forced RLS;
    every tenant's as a superuser or the table's owner)."""
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM invoices")
        return cur.fetchone()[0]
