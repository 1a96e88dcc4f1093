import type { Statement } from '../sql-client.ts'

// Advisory lock keys are derived from the schema name so two schemas (tests, tenants of one
// server) migrate independently while two instances on the same schema wait for each other.
export const createMigrationsTable = (): string => `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`

export const lockMigrations = (schema: string): Statement => ({
  text: `SELECT pg_advisory_xact_lock(hashtext($1)) AS "locked"`,
  values: [`stavily-migrations:${schema}`],
})

export const appliedVersions = (): Statement => ({
  text: 'SELECT version FROM schema_migrations ORDER BY version',
  values: [],
})

export const recordMigration = (version: number, name: string): Statement => ({
  text: 'INSERT INTO schema_migrations (version, name) VALUES ($1, $2)',
  values: [version, name],
})
