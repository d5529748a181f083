-- Variant: the broker is PGMQ (kombu 5.7's pgmq:// transport), for the app
-- app.variants.pgmq_broker. Apply after setup.sql and after PGMQ itself is
-- installed (CREATE EXTENSION pgmq, or the SQL-only install bundled with the
-- pgmq PyPI package), as a superuser, with the same psql variables.
-- kombu calls pgmq.create() for every queue it declares, existing or not:
-- CREATE TABLE / CREATE INDEX IF NOT EXISTS on pgmq.q_<queue> and
-- pgmq.a_<queue>, then rows in pgmq.meta and pgmq.topic_bindings (fanout
-- bindings of the worker's pidbox queue). So the app role needs CREATE on the
-- schema and must own its queue tables: do NOT pre-create the app's queues as
-- the owner role (the worker then dies at boot: must be owner of table
-- q_celery). DELETE on topic_bindings lets kombu unbind; DELETE on meta lets
-- the role drop its own queues with pgmq.drop_queue, which is how a verifier
-- removes the queue and the pidbox queue of a run (a dropped queue's bindings
-- go with it, by the foreign key's cascade). Functions keep PostgreSQL's
-- default EXECUTE for PUBLIC; a database that revoked it grants EXECUTE on
-- the pgmq functions.
GRANT USAGE, CREATE ON SCHEMA pgmq TO :"app_role";
GRANT SELECT, INSERT, DELETE ON pgmq.meta TO :"app_role";
GRANT SELECT, INSERT, DELETE ON pgmq.topic_bindings TO :"app_role";
