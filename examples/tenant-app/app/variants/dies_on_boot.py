"""Broken: the worker starts, prints its banner, and dies before ``ready.``.

``broker_transport_options={"polling_interval": 0.1}`` looks like the way to
make the SQLAlchemy transport poll faster, but kombu's sqla transport hands
every transport option (except its table names and retry settings) to
``sqlalchemy.create_engine()``, which rejects the unknown keyword::

    CRITICAL/MainProcess] Unrecoverable error: TypeError("Invalid argument(s)
    'polling_interval' sent to create_engine(), using configuration
    PGDialect_psycopg2/QueuePool/Engine. ...")

Celery 5.2 then exits with status 0 (its worker command returns instead of
calling ctx.exit; fixed in 5.3), so only the log shows the failure.

Fix: remove the option. To poll faster, set the class attribute instead::

    import kombu.transport.sqlalchemy
    kombu.transport.sqlalchemy.Transport.polling_interval = 0.1
"""
from app.factory import make_app

celery_app = make_app(broker_transport_options={"polling_interval": 0.1})
