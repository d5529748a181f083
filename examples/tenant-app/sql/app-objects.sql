-- Tenant example: the app's own objects only — the row-level-security tenant
-- table and the dead-letter table, their grants and seed rows — for a database
-- whose Celery tables came from `celery-foundation-gates sql` (which makes the
-- broker and result tables, the schema grants and the worker's privileges).
-- setup.sql holds the same statements (test/unit/app-objects-sql.test.ts keeps
-- the two in step) plus everything Celery needs, made by hand.
--
-- Run as a superuser after the sql command's output, e.g.
--
--   psql -v ON_ERROR_STOP=1 -v owner_role=gate_owner -v app_role=app_user -d app -f sql/app-objects.sql
--
-- Variables: owner_role (owns the objects; needs CREATE on the schema, which
-- the sql command's output grants) and app_role (the worker's role).

SET ROLE :"owner_role";

-- Tenant table under row-level security. FORCE makes the policy apply to
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

-- Dead-letter table for failed tasks, written by the task_failure
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

-- Tenant data and DLQ.
GRANT SELECT, INSERT ON invoices TO :"app_role";
GRANT USAGE ON SEQUENCE invoices_id_seq TO :"app_role";
GRANT SELECT, INSERT ON worker_failed_jobs TO :"app_role";
GRANT USAGE ON SEQUENCE worker_failed_jobs_id_seq TO :"app_role";

RESET ROLE;

-- Seed data: a few invoices of two fixed tenants, so that a check like
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
