import type { FastifyInstance } from 'fastify'
import type { Services } from '../../services/context.ts'

// /healthz: the process answers. /readyz: it can serve (database reachable, not shutting
// down), and how: with Redis wake-ups ("push") or degraded to polling PostgreSQL.
// /metrics: Prometheus text.

export function healthRoutes(services: Services, opts: { metrics: boolean }) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }))

    app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
      let database = 'ok'
      try {
        await services.db.sql.query('SELECT 1')
      } catch (err) {
        database = `error: ${(err as Error).message}`
      }
      const fleetHealthy = services.fleet.healthy()
      const ready = database === 'ok' && !services.lifecycle.closing
      return reply.code(ready ? 200 : 503).send({
        status: ready ? (fleetHealthy ? 'ready' : 'degraded') : 'unavailable',
        database,
        fleet: { backend: services.fleet.backend, healthy: fleetHealthy },
        dispatch: fleetHealthy ? 'push' : 'polling',
        shuttingDown: services.lifecycle.closing,
        parkedPolls: services.polls.parked,
      })
    })

    if (!opts.metrics) return
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      const [queueDepth, agents, agentsPresent] = await Promise.all([
        services.dispatcher.queueDepths(),
        services.agents.countByStatus(),
        services.fleet.countPresent(),
      ])
      return reply.type('text/plain; version=0.0.4').send(
        services.metrics.render({
          queueDepth,
          agents,
          agentsPresent,
          parkedPolls: services.polls.parked,
          fleetHealthy: services.fleet.healthy(),
        }),
      )
    })
  }
}
