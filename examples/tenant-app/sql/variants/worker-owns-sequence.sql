-- Variant: the worker's role owns a sequence the result table takes its ids
-- from (a sequence created by the app's role, e.g. by a first run of Celery
-- with create-tables rights). It could ALTER or DROP it. db-access warns,
-- naming the ALTER SEQUENCE … OWNER TO a superuser runs.
ALTER SEQUENCE task_id_sequence OWNER TO :"app_role";
