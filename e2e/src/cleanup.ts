// What a platform leaves on the shared PostgreSQL and Redis: its schemas (Stavily's, the
// registry's and pg-boss's, all named after the orchestrator's schema) and its Redis keys
// (under its prefix). Dropped when the test is done, so parallel and later runs start clean.
import { Redis } from 'ioredis'
import pg from 'pg'

export async function dropPlatformData(schema: string): Promise<void> {
  if (process.env.DATABASE_URL) {
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL })
    await client.connect()
    try {
      for (const s of [schema, `${schema}_registry`, `${schema}_boss`])
        await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`)
    } finally {
      await client.end()
    }
  }
  if (process.env.REDIS_URL) {
    const redis = new Redis(process.env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
    await redis.connect()
    try {
      let cursor = '0'
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${schema}:*`, 'COUNT', 500)
        if (keys.length > 0) await redis.del(...keys)
        cursor = next
      } while (cursor !== '0')
    } finally {
      redis.disconnect()
    }
  }
}
