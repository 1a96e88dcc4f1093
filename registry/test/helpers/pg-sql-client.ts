import pg from 'pg'
import type { SqlClient } from '../../src/storage/sql-client.ts'

// A test-only SqlClient over a pg Pool (the orchestrator ships the production one).
function clientOn(q: pg.Pool | pg.PoolClient, pool: pg.Pool, depth: number): SqlClient {
  return {
    async query<R extends Record<string, unknown>>(text: string, values?: readonly unknown[]) {
      const res = await q.query(text, values as unknown[] | undefined)
      return { rows: res.rows as R[] }
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      if (q !== pool) {
        const name = `sp_${depth + 1}`
        await q.query(`SAVEPOINT ${name}`)
        try {
          const out = await fn(clientOn(q, pool, depth + 1))
          await q.query(`RELEASE SAVEPOINT ${name}`)
          return out
        } catch (err) {
          await q.query(`ROLLBACK TO SAVEPOINT ${name}`)
          throw err
        }
      }
      const c = await pool.connect()
      try {
        await c.query('BEGIN')
        const out = await fn(clientOn(c, pool, 0))
        await c.query('COMMIT')
        return out
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        c.release()
      }
    },
  }
}

export function openPg(connectionString: string): { sql: SqlClient; close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString, max: 4 })
  pool.on('error', () => {})
  return { sql: clientOn(pool, pool, 0), close: () => pool.end() }
}
