-- Tenant example: database setup for a Celery worker that uses PostgreSQL as
-- broker (the SQLAlchemy transport of kombu) and result backend (the database
-- backend of Celery), plus a row-level-security tenant table and a
-- dead-letter table.
--
-- Run as a superuser, in a fresh database, e.g.
--
--   psql -v ON_ERROR_STOP=1 -v owner_role=gate_owner -v app_role=app_user -v app_password=secret -d app -f sql/setup.sql
--
-- Variables:
--   owner_role    NOLOGIN role that owns every object (the migration owner)
--   app_role      LOGIN role the worker connects as, with DML rights only
--   app_password  the password of the app role
--
-- Only three psql features are used, outside comments: variables as quoted
-- literals and as quoted identifiers, and the gexec meta-command (always on
-- its own line, ending the statement before it). Comments deliberately
-- contain none of them, nor dollar quotes, so a small client can apply this
-- file without psql. Re-running it is safe: roles, objects and seed rows are
-- only created when missing, and attributes, privileges and the policy are
-- (re)asserted. Roles are cluster-wide: running it again, for any database,
-- resets the attributes of the app role (after a variant made it SUPERUSER,
-- for instance) for every database in the cluster.

-- 1. Roles -------------------------------------------------------------------
-- CREATE ROLE has no IF NOT EXISTS, and psql does not interpolate variables
-- inside the body of a DO block, hence a generated statement run by gexec.
SELECT format('CREATE ROLE %I NOLOGIN', :'owner_role')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'owner_role')
\gexec
SELECT format('CREATE ROLE %I LOGIN', :'app_role')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'app_role')
\gexec

ALTER ROLE :"owner_role" WITH NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
ALTER ROLE :"app_role" WITH LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION
  PASSWORD :'app_password';
-- No session of the app role may start with a tenant already set (see the
-- tenant-default-on-role variant). RESET is a no-op when nothing is set.
ALTER ROLE :"app_role" RESET app.current_tenant_id;

-- 2. Database and schema privileges --------------------------------------------
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'app_role')
\gexec
-- PostgreSQL 15+ already denies PUBLIC the CREATE privilege on public. Make
-- older servers behave the same, so the app role really cannot create tables.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO :"owner_role";
GRANT USAGE ON SCHEMA public TO :"app_role";

-- 3. Objects, created by (and so owned by) the owner role ----------------------
SET ROLE :"owner_role";

-- 3a. Broker tables of the kombu SQLAlchemy transport, exactly as its own
-- metadata.create_all() emits them (identical in kombu 5.2.4 and 5.7.0). No
-- column has a DEFAULT: SQLAlchemy calls nextval() on the named sequences
-- itself, so the sequence names are mandatory.
CREATE SEQUENCE IF NOT EXISTS queue_id_sequence START WITH 1;
CREATE TABLE IF NOT EXISTS kombu_queue (
  id INTEGER NOT NULL,
  name VARCHAR(200),
  PRIMARY KEY (id),
  UNIQUE (name)
);
CREATE SEQUENCE IF NOT EXISTS message_id_sequence START WITH 1;
CREATE TABLE IF NOT EXISTS kombu_message (
  id INTEGER NOT NULL,
  visible BOOLEAN,
  timestamp TIMESTAMP WITHOUT TIME ZONE,
  payload TEXT NOT NULL,
  version SMALLINT NOT NULL,
  queue_id INTEGER,
  PRIMARY KEY (id),
  CONSTRAINT "FK_kombu_message_queue" FOREIGN KEY(queue_id) REFERENCES kombu_queue (id)
);
CREATE INDEX IF NOT EXISTS ix_kombu_message_visible ON kombu_message (visible);
CREATE INDEX IF NOT EXISTS ix_kombu_message_timestamp ON kombu_message (timestamp);
CREATE INDEX IF NOT EXISTS ix_kombu_message_timestamp_id ON kombu_message (timestamp, id);

-- 3b. Result tables of the Celery database backend, exactly as Celery 5.7
-- creates them: the extended columns (name .. queue, always present whether
-- or not result_extended is on), plus children, stamps and the two date_done
-- indexes. The four sequence names are fixed, as above. Celery 5.2 creates the same tables without children, stamps and
-- those indexes, and works unchanged with these (the extra columns are
-- nullable). Celery 5.7 needs them.
CREATE SEQUENCE IF NOT EXISTS task_id_sequence START WITH 1;
CREATE TABLE IF NOT EXISTS celery_taskmeta (
  id INTEGER NOT NULL,
  task_id VARCHAR(155),
  status VARCHAR(50),
  result BYTEA,
  date_done TIMESTAMP WITHOUT TIME ZONE,
  traceback TEXT,
  children BYTEA,
  name VARCHAR(155),
  args BYTEA,
  kwargs BYTEA,
  worker VARCHAR(155),
  retries INTEGER,
  queue VARCHAR(155),
  stamps BYTEA,
  PRIMARY KEY (id),
  UNIQUE (task_id)
);
CREATE INDEX IF NOT EXISTS ix_celery_taskmeta_date_done ON celery_taskmeta (date_done);
CREATE SEQUENCE IF NOT EXISTS taskset_id_sequence START WITH 1;
CREATE TABLE IF NOT EXISTS celery_tasksetmeta (
  id INTEGER NOT NULL,
  taskset_id VARCHAR(155),
  result BYTEA,
  date_done TIMESTAMP WITHOUT TIME ZONE,
  PRIMARY KEY (id),
  UNIQUE (taskset_id)
);
CREATE INDEX IF NOT EXISTS ix_celery_tasksetmeta_date_done ON celery_tasksetmeta (date_done);

-- 3c. Tenant table under row-level security. FORCE makes the policy apply to
-- the table owner too. The policy compares against the transaction-local
-- setting app.current_tenant_id (unset or empty -> NULL -> no rows).
CREATE TABLE IF NOT EXISTS invoices (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL,
  amount numeric,
  created_at timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS invoices_tenant_id_idx ON invoices (tenant_id);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON invoices;
CREATE POLICY tenant_isolation ON invoices
  USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid);

-- 3d. Dead-letter table for failed tasks, written by the task_failure
-- handler of the worker. Not tenant-scoped: no tenant_id, no RLS.
CREATE TABLE IF NOT EXISTS worker_failed_jobs (
  id bigserial PRIMARY KEY,
  task_id text NOT NULL,
  task_name text NOT NULL,
  error text NOT NULL,
  traceback text,
  failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS worker_failed_jobs_failed_at_idx ON worker_failed_jobs (failed_at);

-- 4. Privileges of the app role: DML only, no CREATE anywhere -------------------
-- Broker: SELECT ... FOR UPDATE on kombu_message needs UPDATE. DELETE lets a
-- verifier remove its own probe messages and reply queues (celery inspect and
-- celery purge need it on kombu_message too).
GRANT SELECT, INSERT, DELETE ON kombu_queue TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON kombu_message TO :"app_role";
-- Results: a store is INSERT of PENDING + UPDATE to the final state, in one
-- transaction.
GRANT SELECT, INSERT, UPDATE, DELETE ON celery_taskmeta TO :"app_role";
GRANT SELECT, INSERT ON celery_tasksetmeta TO :"app_role";
GRANT USAGE ON SEQUENCE queue_id_sequence, message_id_sequence,
  task_id_sequence, taskset_id_sequence TO :"app_role";
-- Tenant data and DLQ.
GRANT SELECT, INSERT ON invoices TO :"app_role";
GRANT USAGE ON SEQUENCE invoices_id_seq TO :"app_role";
GRANT SELECT, INSERT ON worker_failed_jobs TO :"app_role";
GRANT USAGE ON SEQUENCE worker_failed_jobs_id_seq TO :"app_role";

RESET ROLE;

-- 5. Seed data: a few invoices of two fixed tenants, so that a check like
-- no rows without a tenant, or none of the existing rows for a random
-- tenant, has rows to miss. Inserted as the superuser running this script,
-- which row-level security does not apply to. Only inserted when that
-- tenant has no invoice yet, so re-running adds nothing.
--   tenant A  8d7f1d5e-2c5a-4c43-9d55-5b8f4f0a9d10  two invoices
--   tenant B  3b0c9a4e-7f21-4d8e-b6a5-0c1d2e3f4a5b  one invoice
INSERT INTO invoices (tenant_id, amount)
SELECT v.tenant_id::uuid, v.amount::numeric
  FROM (VALUES ('8d7f1d5e-2c5a-4c43-9d55-5b8f4f0a9d10', '120.00'),
               ('8d7f1d5e-2c5a-4c43-9d55-5b8f4f0a9d10', '80.50'),
               ('3b0c9a4e-7f21-4d8e-b6a5-0c1d2e3f4a5b', '42.00')) AS v (tenant_id, amount)
 WHERE NOT EXISTS (SELECT FROM invoices i WHERE i.tenant_id = v.tenant_id::uuid);
