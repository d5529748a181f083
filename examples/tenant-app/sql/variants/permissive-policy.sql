-- Variant: a second, PERMISSIVE policy on invoices that lets every row through.
-- Breaks: tenant isolation for reads. Permissive policies are combined with
-- OR: a row is visible when ANY permissive policy allows it. A support team
-- policy meant for one role, but created without a TO clause (so for
-- PUBLIC, the app role included), with USING true, makes every row of every
-- tenant visible to every role, with or without a tenant set. RLS is still
-- enabled and forced and tenant_isolation is still there, so a check that
-- only looks at those flags passes.
-- What a user sees: nothing in the worker. As the app role, with no tenant
-- set, SELECT count(*) FROM invoices returns every row (3 after setup.sql),
-- and pg_policies lists support_read_all with qual true. Writes are still
-- checked: the policy is FOR SELECT, so an INSERT for another tenant is still
-- refused by tenant_isolation.
-- Fix: DROP POLICY support_read_all ON invoices, or give it a TO clause
-- naming the support role, or make tenant_isolation RESTRICTIVE.
-- Apply after setup.sql, as a superuser, with the same psql variables.
SET ROLE :"owner_role";
DROP POLICY IF EXISTS support_read_all ON invoices;
CREATE POLICY support_read_all ON invoices AS PERMISSIVE FOR SELECT USING (true);
RESET ROLE;
