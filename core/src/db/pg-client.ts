import pg from 'pg'
import { StavilyError } from '../errors.ts'
import { checkSchemaName } from './identifiers.ts'
import type { Database, SqlClient } from './sql-client.ts'

// PostgreSQL through a pg Pool. The search path is set per connection through the startup
// `options` parameter, so every pooled connection (and every transaction) sees the schema
// without a SET round trip.

type Queryable = pg.Pool | pg.PoolClient

function clientOn(q: Queryable, pool: pg.Pool): SqlClient {
  return {
    async query<R extends Record<string, unknown>>(text: string, values?: readonly unknown[]) {
      const res = await q.query(text, values as unknown[] | undefined)
      return { rows: res.rows as R[] }
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      if (q !== pool) {
        // Already inside a transaction: a savepoint keeps the inner unit all-or-nothing.
        const c = q as pg.PoolClient
        const name = `sp_${Math.random().toString(36).slice(2, 10)}`
        await c.query(`SAVEPOINT ${name}`)
        try {
          const out = await fn(clientOn(c, pool))
          await c.query(`RELEASE SAVEPOINT ${name}`)
          return out
        } catch (err) {
          await c.query(`ROLLBACK TO SAVEPOINT ${name}`)
          throw err
        }
      }
      const c = await pool.connect()
      try {
        await c.query('BEGIN')
        const out = await fn(clientOn(c, pool))
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

export interface PgOptions {
  connectionString: string
  schema: string
  poolSize: number
}

export async function openPostgres(opts: PgOptions): Promise<Database> {
  const schema = checkSchemaName('database.schema', opts.schema)
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.poolSize,
    options: `-c search_path=${schema},public`,
    application_name: 'stavily',
  })
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch((err: { code?: string }) => {
      // Two instances creating the schema at once: the loser sees a unique violation; the schema exists.
      if (err.code !== '23505') throw err
    })
  } catch (err) {
    await pool.end().catch(() => {})
    throw new StavilyError('STAVILY_ERR_DATABASE', `cannot reach PostgreSQL: ${(err as Error).message}`, {
      cause: err,
    })
  }
  return {
    backend: 'postgres',
    schema,
    sql: clientOn(pool, pool),
    async exec(text) {
      await pool.query(text)
    },
    async close() {
      await pool.end()
    },
  }
}
