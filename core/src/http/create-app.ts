import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Services } from '../services/context.ts'
import { installErrorHandler } from './error-handler.ts'
import { agentApi } from './routes/agent-api.ts'
import { healthRoutes } from './routes/health.ts'
import { operatorApi, registryMount } from './routes/operator/index.ts'
import { validatorCompiler } from './validation.ts'

// Builds the Fastify apps: one serving both APIs (the default), or two, so that only the
// agent API faces the networks agents live in. Each serves its OpenAPI at /openapi.json.

export type AppRole = 'agent' | 'operator' | 'both'

export async function createApp(services: Services, role: AppRole): Promise<FastifyInstance> {
  const app = Fastify({
    logger: services.config.logger,
    bodyLimit: services.tuning.bodyLimitBytes,
    // Only the configured proxies may say who the client is (rate limits, audit addresses).
    trustProxy: services.config.trustedProxies.length > 0 ? services.config.trustedProxies : false,
    // Long-polls are held up to pollWaitMaxMs; the server must not cut them first.
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: services.tuning.pollWaitMaxMs + 10_000,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  })
  app.setValidatorCompiler(validatorCompiler)
  // Both APIs speak JSON only; a text body is refused (415) rather than validated as a string.
  app.removeContentTypeParser('text/plain')
  installErrorHandler(app)
  // A request still in flight when shutdown begins finishes, but its connection must not
  // then idle in keep-alive: the server already closed the idle ones and would wait for this
  // one until the keep-alive timeout.
  // (A callback hook, not an async one: it runs on every answer, the agent API's hot path too.)
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (services.lifecycle.closing) void reply.header('connection', 'close')
    done(null, payload)
  })
  await app.register(swagger, {
    openapi: {
      info: {
        title:
          role === 'agent'
            ? 'Stavily agent API'
            : role === 'operator'
              ? 'Stavily operator API'
              : 'Stavily orchestrator',
        version: '1.0.0',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  })
  await app.register(healthRoutes(services, { metrics: role !== 'agent' }))
  if (role !== 'operator') await app.register(agentApi(services), { prefix: '/agents/v1' })
  if (role !== 'agent') await app.register(operatorApi(services), { prefix: '/api/v1' })
  // Agents fetch TUF metadata and bundles from <orchestrator>/api/v1/registry, so with two
  // listeners the agent-facing one serves the registry too (same authorization).
  await app.register(registryMount(services), { prefix: '/api/v1/registry' })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  if (role !== 'agent') await app.register(swaggerUi, { routePrefix: '/docs' })
  await app.ready()
  return app
}
