-- Variant: row-level security on invoices is switched off.
-- Breaks: tenant isolation for everyone. The tenant_isolation policy still
-- exists (pg_policies lists it) but is not applied, so the app role sees and
-- writes the rows of every tenant, with or without app.current_tenant_id.
-- What a user sees: the worker runs exactly as before and record_invoice
-- still succeeds. Only pg_class.relrowsecurity = false, or a read of invoices
-- without a tenant set returning rows, shows it.
-- Apply after setup.sql, as a superuser, with the same psql variables.
ALTER TABLE invoices DISABLE ROW LEVEL SECURITY;
