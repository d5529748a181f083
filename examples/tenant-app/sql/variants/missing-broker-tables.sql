-- Variant: the broker tables were never migrated (a migration that forgot
-- kombu_queue and kombu_message), and the app role cannot create them.
-- Breaks: worker startup. kombu runs metadata.create_all() when it opens a
-- channel. With the tables missing it tries CREATE SEQUENCE, and the app
-- role has no CREATE privilege on schema public.
-- What a user sees: the banner, then, before any ready line,
--   CRITICAL ... Unrecoverable error: ProgrammingError(... InsufficientPrivilege)
--   permission denied for schema public
-- (the statement in the traceback is CREATE SEQUENCE queue_id_sequence), and
-- the worker exits: status 1 on Celery 5.3 and later, 0 on Celery 5.2.
-- Apply after setup.sql, as a superuser, with the same psql variables.
SET ROLE :"owner_role";
DROP TABLE IF EXISTS kombu_message;
DROP TABLE IF EXISTS kombu_queue;
DROP SEQUENCE IF EXISTS message_id_sequence;
DROP SEQUENCE IF EXISTS queue_id_sequence;
RESET ROLE;
