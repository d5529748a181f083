-- Variant: invoices keyed by an integer tenant id (as in projects whose
-- tenants table has a serial primary key), the policy casting the setting to
-- integer. Everything else as setup.sql: RLS enabled and forced, the policy
-- reads app.current_tenant_id with missing_ok, the app role has SELECT and
-- INSERT only.
-- Breaks: nothing. It is the correct setup with another tenant type; a check
-- that sets a uuid as the "random tenant" makes this policy raise (invalid
-- input syntax for type integer) and proves nothing.
-- Apply after setup.sql, as a superuser, with the same psql variables.
-- Running setup.sql again does not undo it (it creates invoices only when
-- missing).
DROP TABLE IF EXISTS invoices;
SET ROLE :"owner_role";
CREATE TABLE invoices (
  id bigserial PRIMARY KEY,
  tenant_id integer NOT NULL,
  amount numeric,
  created_at timestamptz DEFAULT now()
);
CREATE INDEX invoices_tenant_id_idx ON invoices (tenant_id);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoices
  USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::integer)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::integer);
GRANT SELECT, INSERT ON invoices TO :"app_role";
GRANT USAGE ON SEQUENCE invoices_id_seq TO :"app_role";
RESET ROLE;
-- Seed rows of two tenants (1 and 2), inserted as the superuser.
INSERT INTO invoices (tenant_id, amount) VALUES (1, 120.00), (1, 80.50), (2, 42.00);
