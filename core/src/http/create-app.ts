import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Services } from '../services/context.ts'
import { dashboardFolder, dashboardRoutes } from './dashboard.ts'
import { frameworkErrors, installErrorHandler } from './error-handler.ts'
import { API_POLICY } from './policy.ts'
import { roleGuards } from './request-context.ts'
import { agentApi } from './routes/agent-api.ts'
import { healthRoutes } from './routes/health.ts'
import { operatorApi, registryMount } from './routes/operator/index.ts'
import { whoamiRoutes } from './routes/operator/whoami.ts'
import { lazySerializers } from './serialization.ts'
import { tlsServerOptions } from './tls.ts'
import { closeUnusedConnectionsOnShutdown } from './unused-connections.ts'
import { validatorCompiler } from './validation.ts'
import { checkWireValues, installJsonBody } from './wire-boundary.ts'

// Builds the Fastify apps: one serving both APIs (the default), or two, so that only the
// agent API faces the networks agents live in. Each serves its OpenAPI at /openapi.json.

export type AppRole = 'agent' | 'operator' | 'both'

export async function createApp(services: Services, role: AppRole): Promise<FastifyInstance> {
  const { tuning } = services
  const proxies = services.config.trustedProxies
  const serverOptions = {
    headersTimeout: tuning.headersTimeoutMs,
    requestTimeout: tuning.requestTimeoutMs,
    // Node checks these deadlines on an interval (30 s by default): check often enough
    // that a slow client is cut close to its deadline.
    connectionsCheckingInterval: API_POLICY.connectionsCheckingIntervalMs,
  }
  const app = Fastify({
    logger: services.config.logger,
    bodyLimit: tuning.bodyLimitBytes,
    // Only the configured proxies may say who the client is (rate limits, audit addresses).
    trustProxy: proxies.length > 0 ? proxies : false,
    // Slow clients: receiving a whole request (headers and body) is bounded, so a body
    // cannot trickle forever. The long-poll and the stream are bodiless GETs, received at
    // once, so this bound never cuts them.
    requestTimeout: tuning.requestTimeoutMs,
    // With TLS, Node's https server takes the same server options beside the TLS ones
    // (Fastify passes `http` only to a plain HTTP server).
    ...(services.config.tls
      ? { https: { ...tlsServerOptions(services.config.tls, role), ...serverOptions } }
      : { http: serverOptions }),
    // A socket with no traffic either way is closed: longer than a held poll (which sends
    // nothing until it answers) and than the stream's heartbeat; it also ends a client
    // that stops reading its answer, whose writes then stall.
    connectionTimeout: tuning.pollWaitMaxMs + API_POLICY.socketIdleMarginMs,
    keepAliveTimeout: tuning.pollWaitMaxMs + API_POLICY.socketIdleMarginMs,
    frameworkErrors,
    schemaController: lazySerializers(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  })
  closeUnusedConnectionsOnShutdown(app)
  app.setValidatorCompiler(validatorCompiler)
  // Both APIs speak JSON only; a text body is refused (415) rather than validated as a string.
  app.removeContentTypeParser('text/plain')
  installJsonBody(app)
  // Runs after the route's onRequest guards (authentication first) and before its schema.
  app.addHook('preValidation', checkWireValues)
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
  if (role !== 'agent') {
    await app.register(operatorApi(services), { prefix: '/api/v1' })
    // What the calling token may do (the dashboard shows the role and hides what it cannot do).
    await app.register(whoamiRoutes(roleGuards(services)), { prefix: '/api/v1' })
  }
  // Agents fetch TUF metadata and bundles from <orchestrator>/api/v1/registry, so with two
  // listeners the agent-facing one serves the registry too (same authorization).
  await app.register(registryMount(services), { prefix: '/api/v1/registry' })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  if (role !== 'agent') await app.register(swaggerUi, { routePrefix: '/docs' })
  // The web dashboard at / (and every other non-API path, for its deep links).
  if (role !== 'agent') await app.register(dashboardRoutes(dashboardFolder(services.config.dashboardDir)))
  await app.ready()
  return app
}
