"""Working: broker and result tables under configured names, the results in their own schema.

kombu's sqla transport takes ``queue_tablename``/``message_tablename`` from
``broker_transport_options``; Celery's database backend takes
``database_table_names`` and ``database_table_schemas`` (and puts its two
sequences into that schema too). ``celery-foundation-gates sql --app
app.variants.custom_tables`` prints the DDL for exactly these names; the gates
check the same names.
"""
from app.factory import make_app

celery_app = make_app(
    broker_transport_options={"queue_tablename": "mq_queue", "message_tablename": "mq_message"},
    database_table_names={"task": "job_result", "group": "job_group_result"},
    database_table_schemas={"task": "results", "group": "results"},
)
