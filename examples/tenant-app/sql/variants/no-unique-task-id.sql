-- Variant: the result table without UNIQUE (task_id), as a hand-written or
-- migrated schema may have it. The worker still works; concurrent stores of
-- one task id can then leave two rows. db-access warns, naming the statement
-- the owner runs.
SET ROLE :"owner_role";
ALTER TABLE celery_taskmeta DROP CONSTRAINT IF EXISTS celery_taskmeta_task_id_key;
RESET ROLE;
