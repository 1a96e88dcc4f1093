import type { SqlClient } from '../db/sql-client.ts'
import type { Statement } from './plans.ts'

// The SQL interface the audit log runs on (the orchestrator's SqlClient, PostgreSQL or PGlite).
export type { SqlClient }

export function exec<R extends Record<string, unknown>>(
  sql: SqlClient,
  s: Statement,
): Promise<{ rows: R[] }> {
  return sql.query<R>(s.text, s.values)
}

/** bytea comes back as a Buffer from pg and as a Uint8Array from PGlite. */
export function toBuffer(v: unknown): Buffer {
  return Buffer.from(v as Uint8Array)
}
