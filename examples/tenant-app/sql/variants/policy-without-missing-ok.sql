-- Variant: the invoices policy reads the tenant setting without missing_ok.
-- Breaks: queries without a tenant. current_setting with one argument raises
-- an error when the setting does not exist in the session, instead of
-- returning NULL. The worker, which always sets the tenant first, works.
-- What a user sees: as the app role, in a fresh session, with no tenant set,
-- SELECT count(*) FROM invoices fails with
--   ERROR:  unrecognized configuration parameter app.current_tenant_id
-- (the name in double quotes). Once the session has set the tenant in an
-- earlier transaction the setting exists with an empty value, and the same
-- query fails with
--   ERROR:  invalid input syntax for type uuid
-- instead. So the failure depends on which pooled connection a query gets.
-- Rows stay hidden (the error is not a leak), but every tenant-less code
-- path, health checks included, breaks, and the usual reaction - a default
-- tenant on the role, see tenant-default-on-role.sql - is a leak.
-- Fix: current_setting with missing_ok true, with NULLIF for the empty value,
-- as setup.sql writes it (re-running setup.sql restores that policy).
-- Apply after setup.sql, as a superuser, with the same psql variables.
SET ROLE :"owner_role";
DROP POLICY IF EXISTS tenant_isolation ON invoices;
CREATE POLICY tenant_isolation ON invoices
  USING (tenant_id = current_setting('app.current_tenant_id')::uuid)
  WITH CHECK (tenant_id = current_setting('app.current_tenant_id')::uuid);
RESET ROLE;
