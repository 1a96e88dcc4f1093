import type { Statement } from '../sql-client.ts'

// The advisory lock key is derived from the schema, so two schemas (tests, tenants) migrate
// independently while two instances on one schema wait for each other.
export const lockMigrations = (schema: string): Statement => ({
  text: 'SELECT pg_advisory_xact_lock(hashtext($1)) AS "locked"',
  values: [`stavily-registry-migrations:${schema}`],
})

export const createSchema = (schema: string): string => `CREATE SCHEMA IF NOT EXISTS ${schema}`

export const createMigrationsTable = (schema: string): string => `
  CREATE TABLE IF NOT EXISTS ${schema}.registry_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`

export const appliedVersions = (schema: string): Statement => ({
  text: `SELECT version FROM ${schema}.registry_migrations ORDER BY version`,
  values: [],
})

export const recordMigration = (schema: string, version: number, name: string): Statement => ({
  text: `INSERT INTO ${schema}.registry_migrations (version, name) VALUES ($1, $2)`,
  values: [version, name],
})
