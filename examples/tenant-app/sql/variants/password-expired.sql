-- Breaks: the app role's password has expired (VALID UNTIL in the past).
-- The server then refuses every login of the role with "password authentication
-- failed", exactly as for a wrong password; the worker retries forever.
ALTER ROLE :"app_role" VALID UNTIL '2000-01-01';
