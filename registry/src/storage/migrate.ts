import { RegistryError } from '../errors.ts'
import { MIGRATIONS } from './migrations/index.ts'
import {
  appliedVersions,
  createMigrationsTable,
  createSchema,
  lockMigrations,
  recordMigration,
} from './plans/migrations.ts'
import { run, type SqlClient } from './sql-client.ts'

/**
 * Applies the registry's pending migrations in one transaction under an advisory lock, so
 * instances starting together apply each exactly once. Returns the versions applied now.
 */
export async function migrate(sql: SqlClient, schema: string): Promise<number[]> {
  try {
    return await sql.transaction(async (tx) => {
      // Lock before CREATE SCHEMA: two concurrent IF NOT EXISTS can still collide on the catalog.
      await run(tx, lockMigrations(schema))
      await tx.query(createSchema(schema))
      await tx.query(createMigrationsTable(schema))
      const done = new Set(
        (await run<{ version: number }>(tx, appliedVersions(schema))).map((r) => r.version),
      )
      const applied: number[] = []
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue
        // PGlite's parameterised query() refuses several statements at once: run them one by one.
        for (const statement of splitStatements(m.sql(schema))) await tx.query(statement)
        await run(tx, recordMigration(schema, m.version, m.name))
        applied.push(m.version)
      }
      return applied
    })
  } catch (err) {
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_MIGRATION',
      `registry migrations failed: ${(err as Error).message}`,
      {
        cause: err,
      },
    )
  }
}

// Migrations are plain DDL without functions or quoted semicolons: a split on `;` at a line
// end is exact for them.
function splitStatements(text: string): string[] {
  return text
    .split(/;\s*\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}
