"""Data fixes of the billing app, run by hand with the migration role (never by a ping).

The DSN is read from the environment at import, as settings-like module constants often are:
``MIGRATIONS_DATABASE_URL`` is usually the table owner's or a superuser's, set for the whole CI
job so that the migration step can use it. Reading it here makes it a credential this worker's
code holds: rls-role fails on it (`env MIGRATIONS_DATABASE_URL`, read by this module), although
no task uses it during the run. Without the variable there is nothing to hold.
"""
import os

MIGRATIONS_DSN = os.environ.get("MIGRATIONS_DATABASE_URL")


def apply_data_fix(sql):
    """Runs ``sql`` as the migration role (an operator's tool, not a task)."""
    import psycopg

    if not MIGRATIONS_DSN:
        raise RuntimeError("MIGRATIONS_DATABASE_URL is not set")
    with psycopg.connect(MIGRATIONS_DSN) as conn:
        conn.execute(sql)
