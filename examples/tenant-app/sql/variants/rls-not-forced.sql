-- Variant: row-level security on invoices is enabled but not forced.
-- Breaks: defence in depth. Without FORCE the table owner (the migration
-- owner role, and everything that runs as it: migrations, backfills, admin
-- scripts) is exempt from the tenant policy. The app role is not the owner,
-- so the worker itself is still confined to one tenant.
-- What a user sees: nothing at runtime. pg_class.relforcerowsecurity is
-- false, and a job run as the owner role reads the rows of every tenant.
-- Apply after setup.sql, as a superuser, with the same psql variables.
ALTER TABLE invoices NO FORCE ROW LEVEL SECURITY;
