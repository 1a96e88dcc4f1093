import { runName } from '../../../test/run-names.ts'
import type { SqlClient } from '../../src/storage/sql-client.ts'
import { openPg } from './pg-sql-client.ts'
import { openPglite } from './pglite-sql-client.ts'

// Every storage test runs on PGlite, and on PostgreSQL too when DATABASE_URL is set. Each
// test takes its own schema, so parallel files and other engineers' tests never collide.

export interface Backend {
  name: 'pglite' | 'postgres'
  open(): Promise<{ sql: SqlClient; close(): Promise<void> }>
}

export const backends: Backend[] = [
  { name: 'pglite', open: openPglite },
  ...(process.env.DATABASE_URL
    ? [{ name: 'postgres' as const, open: async () => openPg(process.env.DATABASE_URL!) }]
    : []),
]

/** A schema of this test run (the leak check counts those left at the end). */
export function freshSchema(prefix = 'reg'): string {
  return runName(prefix)
}

export async function dropSchema(sql: SqlClient, schema: string): Promise<void> {
  await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
}
