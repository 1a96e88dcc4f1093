import { PGlite, type Transaction } from '@electric-sql/pglite'
import type { SqlClient } from '../../src/storage/sql-client.ts'

// A test-only SqlClient over an in-memory PGlite (the orchestrator ships the production one).
function clientOn(q: PGlite | Transaction, depth: number): SqlClient {
  return {
    async query<R extends Record<string, unknown>>(text: string, values?: readonly unknown[]) {
      return { rows: (await q.query<R>(text, values as unknown[] | undefined)).rows }
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      if (q instanceof PGlite) return q.transaction((tx) => fn(clientOn(tx, 0)))
      const name = `sp_${depth + 1}`
      await q.exec(`SAVEPOINT ${name}`)
      try {
        const out = await fn(clientOn(q, depth + 1))
        await q.exec(`RELEASE SAVEPOINT ${name}`)
        return out
      } catch (err) {
        await q.exec(`ROLLBACK TO SAVEPOINT ${name}`)
        throw err
      }
    },
  }
}

export async function openPglite(): Promise<{ sql: SqlClient; close(): Promise<void> }> {
  const db = await PGlite.create()
  return { sql: clientOn(db, 0), close: () => db.close() }
}
