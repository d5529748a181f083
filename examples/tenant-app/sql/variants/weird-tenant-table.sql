-- Adds (does not break): a tenant table whose name needs quoting, "Weird-Table",
-- with row-level security enabled and forced, to check that tenant-tables
-- accepts quoted identifiers (tenant-tables: public."Weird-Table").
SET ROLE :"owner_role";
CREATE TABLE IF NOT EXISTS "Weird-Table" (id bigserial PRIMARY KEY, tenant_id uuid NOT NULL);
ALTER TABLE "Weird-Table" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "Weird-Table" FORCE ROW LEVEL SECURITY;
RESET ROLE;
