import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { isStavilyError, StavilyError } from '../../../errors.ts'
import type { Services } from '../../../services/context.ts'
import { bearer } from '../../auth.ts'
import { API_POLICY } from '../../policy.ts'
import { orgOf, type RoleGuards } from '../../request-context.ts'
import { errorResponses } from '../../schemas/common.ts'
import { StreamSlots, writeBounded } from '../../stream-limits.ts'

// GET /stream: the organization's live events as Server-Sent Events (`event: run|step|agent`,
// `data: <JSON>`), for the CLI's watch commands and dashboards. Best effort: a client that
// reconnects reads the current state from the API. EventSource cannot set headers, so the
// token may come as `?token=` (keep such URLs out of shared logs). Streams end when the
// server closes, so a graceful shutdown never waits on them.

const StreamQuery = Type.Object(
  {
    token: Type.Optional(Type.String({ description: 'the API token, for clients that cannot set headers' })),
  },
  { additionalProperties: false },
)

// Runs before authentication: a `?token=` stands in for a missing Authorization header.
async function tokenFromQuery(req: FastifyRequest): Promise<void> {
  const token = (req.query as { token?: string } | undefined)?.token
  if (token && req.headers.authorization === undefined) req.headers.authorization = `Bearer ${token}`
}

export function streamRoutes(services: Services, role: RoleGuards) {
  return async (app: FastifyInstance): Promise<void> => {
    const open = new Set<() => void>()
    const slots = new StreamSlots(services.tuning)
    app.addHook('preClose', async () => {
      for (const end of [...open]) end()
    })

    app.get(
      '/stream',
      {
        onRequest: [tokenFromQuery, role.viewer.onRequest],
        schema: {
          tags: ['stream'],
          summary:
            'Live events of the organization (Server-Sent Events: event run, step or agent; JSON data)',
          querystring: StreamQuery,
          produces: ['text/event-stream'],
          response: { 200: Type.String({ description: 'text/event-stream' }), ...errorResponses },
        },
      },
      async (req, reply) => {
        if (open.size >= API_POLICY.maxStreams || services.lifecycle.closing) {
          throw new StavilyError(
            'STAVILY_ERR_SHUTTING_DOWN',
            'stream: this instance cannot take more streams; retry later',
          )
        }
        // Before the hijack: a full organization or token gets its 429 as a normal answer.
        const free = slots.take(orgOf(req), req.principal!.tokenId)
        // Revocations are watched before the stream counts as open, and the token is checked
        // once more after that watch is live: a revocation between this request's
        // authentication and the subscription (or before this instance's first Redis
        // subscription) would otherwise go unseen until the heartbeat's re-check.
        let ended = false
        let end = () => {
          ended = true
        }
        const credential = bearer(req)
        let release: () => void
        try {
          release = await services.stream.endOnRevoke(req.principal!.tokenId, () => end())
          if (ended || !(await services.tenancy.authenticateApiToken(credential))) {
            release()
            throw new StavilyError('STAVILY_ERR_UNAUTHENTICATED', 'authorization: unknown API token', {
              data: { field: 'authorization' },
            })
          }
        } catch (e) {
          free()
          throw e
        }
        reply.hijack()
        const res = reply.raw
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          // The stream is the connection's whole life: once it ends (client gone, or the
          // server closing) the socket closes too, instead of idling in keep-alive, which
          // would hold a graceful shutdown until the keep-alive timeout.
          connection: 'close',
          // nginx buffers responses unless told otherwise; events must arrive as they happen.
          'x-accel-buffering': 'no',
        })
        res.write(`retry: ${API_POLICY.streamRetryMs}\n: connected\n\n`)
        const unsubscribe = services.stream.subscribe(orgOf(req), (e) => {
          if (!ended) writeBounded(res, `event: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`, end)
        })
        // A revoked token's stream ends at once (announced to every instance) and, should the
        // announcement be lost (Redis down), at the next heartbeat, which checks the token again.
        const heartbeat = setInterval(() => {
          writeBounded(res, ': ping\n\n', end)
          void services.tenancy
            .authenticateApiToken(credential)
            .then((still) => {
              if (!still) end()
            })
            // A token that expired since the stream opened is refused with an error, not
            // answered "unknown"; any refusal of the credential ends the stream. (A failure
            // to check, such as the database being away, keeps it: the next beat retries.)
            .catch((err) => {
              if (isStavilyError(err) && err.statusCode === 401) end()
            })
        }, API_POLICY.streamHeartbeatMs)
        heartbeat.unref()
        end = () => {
          if (ended) return
          ended = true
          clearInterval(heartbeat)
          unsubscribe()
          release()
          free()
          open.delete(end)
          res.end()
        }
        open.add(end)
        // The response's close (the socket went away), not the request's: a GET request
        // stream closes as soon as its empty body has been read.
        res.on('close', end)
        res.on('error', end)
      },
    )
  }
}
