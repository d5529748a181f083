-- Variant: the broker tables exist but the named kombu sequences do not (a
-- hand-written migration that used SERIAL ids, or dropped sequences that
-- looked unused). kombu never relies on column defaults: it inserts with
-- nextval() on queue_id_sequence and message_id_sequence by name, and
-- create_all() does not create a sequence for a table that already exists.
-- What a user sees: the banner, then, while the worker declares its queue,
--   CRITICAL ... Unrecoverable error: ProgrammingError(... UndefinedTable)
--   relation queue_id_sequence does not exist
-- and the worker exits (status 1 on Celery 5.3 and later, 0 on 5.2).
-- Producers fail the same way on message_id_sequence.
-- Apply after setup.sql, as a superuser, with the same psql variables.
SET ROLE :"owner_role";
DROP SEQUENCE IF EXISTS queue_id_sequence;
DROP SEQUENCE IF EXISTS message_id_sequence;
RESET ROLE;
