import Fastify, { type FastifyInstance } from 'fastify'
import { registryRoutes } from '../../src/http/routes.ts'
import type { Registry } from '../../src/registry.ts'

/** The registry's routes on a real loopback listener, mounted under /registry. */
export async function serveRegistry(
  registry: Registry,
  authorize: Parameters<typeof registryRoutes>[1]['authorize'] = async () => {},
): Promise<{ app: FastifyInstance; baseUrl: string }> {
  const app = Fastify({ logger: false })
  await app.register(registryRoutes, { prefix: '/registry', registry, authorize })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  return { app, baseUrl: `http://127.0.0.1:${port}/registry` }
}
