// The tests' PostgreSQL: the same harness the demo uses (scripts/lib/postgres.mjs).
export { freePort, LocalPostgres as TestPostgres, SUPERUSER } from '../../scripts/lib/postgres.mjs'
export type { LocalPostgres } from '../../scripts/lib/postgres.mjs'
