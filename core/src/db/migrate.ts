import { StavilyError } from '../errors.ts'
import { MIGRATIONS } from './migrations/index.ts'
import {
  appliedVersions,
  createMigrationsTable,
  lockMigrations,
  recordMigration,
} from './plans/migrations.ts'
import { type Database, run } from './sql-client.ts'

/**
 * Applies the pending numbered migrations in one transaction under an advisory lock, so
 * several instances starting together apply each migration exactly once.
 */
export async function migrate(db: Database): Promise<number[]> {
  try {
    return await db.sql.transaction(async (tx) => {
      await run(tx, lockMigrations(db.schema))
      await tx.query(createMigrationsTable())
      const done = new Set((await run<{ version: number }>(tx, appliedVersions())).rows.map((r) => r.version))
      const applied: number[] = []
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue
        // Multi-statement text goes through the simple protocol: split is not needed there,
        // but PGlite's parameterised query() refuses it, so run each statement on its own.
        for (const statement of splitStatements(m.sql)) await tx.query(statement)
        await run(tx, recordMigration(m.version, m.name))
        applied.push(m.version)
      }
      return applied
    })
  } catch (err) {
    if (err instanceof StavilyError) throw err
    throw new StavilyError('STAVILY_ERR_MIGRATION', `applying migrations failed: ${(err as Error).message}`, {
      cause: err,
    })
  }
}

// Migrations are plain DDL without functions or quoted semicolons, so a split on `;` at the
// end of a line is exact for them.
function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}
