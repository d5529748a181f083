-- Variant: the app role has the BYPASSRLS attribute.
-- Breaks: tenant isolation. Row-level-security policies, even forced ones,
-- are not applied to a BYPASSRLS role: it sees the invoices of every tenant
-- and can write rows for any tenant_id.
-- What a user sees: nothing in the worker, which boots and runs every task as
-- before. Only pg_roles.rolbypassrls, or a read of invoices without a tenant
-- set returning rows, reveals it.
-- Role attributes are cluster-wide. Running setup.sql again resets it.
-- Apply after setup.sql, as a superuser, with the same psql variables.
ALTER ROLE :"app_role" BYPASSRLS;
