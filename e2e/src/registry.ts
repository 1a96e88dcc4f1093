// A registry of its own (for tests that exercise the plugin path without the orchestrator):
// on PostgreSQL in a fresh schema when DATABASE_URL is set, else on an in-memory PGlite;
// its routes on a loopback Fastify, as the orchestrator mounts them.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Database, openPglite, openPostgres } from '@stavily/core/testing'
import { createRegistry, type Registry, registryRoutes } from '@stavily/registry'
import Fastify, { type FastifyInstance } from 'fastify'

/** Plugins import `@stavily/sdk`; the registry builds them against this workspace's SDK. */
export const PROVIDED_SDK = {
  '@stavily/sdk': fileURLToPath(new URL('../../sdk/src/index.ts', import.meta.url)),
}

export function freshSchema(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`
}

export interface ServedRegistry {
  registry: Registry
  /** Where the routes are mounted (what agents get as the registry URL). */
  baseUrl: string
  close(): Promise<void>
}

export async function startRegistry(tmp: string): Promise<ServedRegistry> {
  const schema = freshSchema('e2e_reg')
  const db: Database = process.env.DATABASE_URL
    ? await openPostgres({ connectionString: process.env.DATABASE_URL, schema, poolSize: 4 })
    : await openPglite({ dataDir: undefined, schema })
  const registry = await createRegistry({
    sql: db.sql,
    schema,
    keysDir: join(tmp, 'registry-keys'),
    // The scenarios publish from file:// and a loopback git daemon.
    remotes: { allowFile: true, allowPrivate: true },
    build: { provided: PROVIDED_SDK, workDir: tmp },
  })
  const app: FastifyInstance = Fastify({ logger: false })
  await app.register(registryRoutes, { prefix: '/registry', registry, authorize: async () => {} })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  return {
    registry,
    baseUrl: `http://127.0.0.1:${port}/registry`,
    async close() {
      await app.close()
      if (db.backend === 'postgres') await db.sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await db.close()
    },
  }
}
