-- Variant: the result tables were made by Celery 5.2 (no children, no stamps)
-- and are now used by Celery 5.7, whose result model has both columns. The app
-- role does not own celery_taskmeta (least privilege: DML only).
-- Breaks: every result. At start Celery 5.7 tries ALTER TABLE ... ADD COLUMN
-- for each column its model has and the table lacks; only the owner may, so
-- the worker logs two WARNINGs at boot
--   Failed to add missing column 'children' to celery_taskmeta ...
--   must be owner of table celery_taskmeta
-- (the one for stamps too), still prints ready., and then every result store
-- fails: UndefinedColumn: column celery_taskmeta.children does not exist,
-- then BackendStoreError: failed to store result on the backend. A client's
-- .get() raises BackendGetMetaError. Celery 5.2 works unchanged on these tables.
-- Fix: the table's owner runs
--   ALTER TABLE celery_taskmeta ADD COLUMN children BYTEA, ADD COLUMN stamps BYTEA;
-- Apply after setup.sql, as a superuser, with the same psql variables.
SET ROLE :"owner_role";
ALTER TABLE celery_taskmeta DROP COLUMN children, DROP COLUMN stamps;
RESET ROLE;
