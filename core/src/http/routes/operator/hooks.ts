import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { isStavilyError, StavilyError } from '../../../errors.ts'
import type { Services } from '../../../services/context.ts'
import { RESPOND_POLICY } from '../../../workflows/schema.ts'
import { SIGNATURE_HEADER } from '../../../workflows/webhook/signature.ts'
import { API_POLICY } from '../../policy.ts'
import { rateLimit } from '../../rate-limit.ts'
import { errorResponses, IdParams } from '../../schemas/common.ts'
import { jsonFromBytes } from '../../wire-boundary.ts'
import { HookResponder } from './hook-respond.ts'

// POST /hooks/:id — a webhook trigger. No API token: the request is authenticated by its
// HMAC signature (Stavily-Signature), which covers the exact bytes sent, so this plugin
// keeps the raw body: its own JSON parser checks the JSON and hands the engine the buffer.
// Only JSON is accepted (415 otherwise); bodies over the limit get 413.

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer
  }
}

const Accepted = Type.Object({
  accepted: Type.Literal(true),
  runId: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Optional(
    Type.Union([Type.Literal('filtered'), Type.Literal('debounced'), Type.Literal('throttled')], {
      description: 'why no run started',
    }),
  ),
  runIds: Type.Optional(
    Type.Array(Type.String(), {
      description: 'every run a delivery of several events started (Alertmanager)',
    }),
  ),
  runUrl: Type.Optional(
    Type.String({ description: 'where the run (and so its result) is read later: GET with an API token' }),
  ),
})

// With trigger.webhook.respond: the status and JSON body the workflow renders from its
// finished run (any 200-599; an error document with 200 when the rendering fails).
const RunResponse = Type.Unknown({
  description: 'the body the workflow renders from its finished run (trigger.webhook.respond)',
})

export function hookRoutes(services: Services) {
  const responder = new HookResponder(services)
  return async (root: FastifyInstance): Promise<void> => {
    // Scoped to this plugin: the rest of the API keeps Fastify's own JSON parser.
    root.removeAllContentTypeParsers()
    root.addContentTypeParser(
      /^application\/([a-z0-9.+-]+\+)?json(;|$)/i,
      { parseAs: 'buffer', bodyLimit: API_POLICY.webhookBodyLimitBytes },
      (req, body, done) => {
        const raw = body as Buffer
        req.rawBody = raw
        try {
          // The one value policy of both APIs (wire-boundary.ts), on the exact bytes signed.
          done(null, raw.length === 0 ? undefined : jsonFromBytes(raw))
        } catch (err) {
          if (isStavilyError(err)) return done(err, undefined)
          done(
            new StavilyError(
              'STAVILY_ERR_MALFORMED_BODY',
              `body: not valid JSON (${(err as Error).message})`,
              {
                data: { field: 'body' },
              },
            ),
            undefined,
          )
        }
      },
    )
    const app = root.withTypeProvider<TypeBoxTypeProvider>()

    app.post(
      '/hooks/:id',
      {
        preHandler: rateLimit(services.fleet, services.tuning),
        schema: {
          tags: ['webhooks'],
          summary: 'Deliver an event to a webhook-triggered workflow (HMAC-signed)',
          description: `Signed with the header \`${SIGNATURE_HEADER}: t=<unix seconds>,v2=<hex HMAC-SHA256 of "<t>.<workflow id>.<raw body>">\`, keyed with the organization secret the trigger names (the deprecated v1, without the workflow id, is still accepted; see docs/workflows.md). 202 whether or not a run started; \`reason\` says why not. Until the signature verifies, every failure (no such hook, not a webhook, secret not set, wrong signature) is the same 401. A trigger with \`provider: github | gitlab | gitea | alertmanager\` is authenticated instead the way that sender does it (\`X-Hub-Signature-256\`, \`X-Gitlab-Token\`, \`X-Gitea-Signature\`, \`Authorization\` bearer or basic), one run per event (a push, or each alert of an Alertmanager group), deduplicated by the event (see docs/workflows.md). With \`trigger.webhook.respond\`, the request waits up to its \`wait\` (at most 60 s) for the run and answers the status and JSON body the workflow renders from the finished run; a run not finished by then, or a request beyond the ${RESPOND_POLICY.maxWaiting} waiting at once, gets the 202 with \`runUrl\`.`,
          security: [],
          params: IdParams,
          headers: Type.Object({
            [SIGNATURE_HEADER]: Type.Optional(Type.String()),
            'x-hub-signature-256': Type.Optional(Type.String()),
            'x-gitlab-token': Type.Optional(Type.String()),
            'x-gitea-signature': Type.Optional(Type.String()),
          }),
          response: { 202: Accepted, '2xx': RunResponse, ...errorResponses },
        },
      },
      async (req, reply) => {
        if (!req.rawBody || req.rawBody.length === 0) {
          throw new StavilyError('STAVILY_ERR_MALFORMED_BODY', 'body: empty, expected a JSON value', {
            data: { field: 'body' },
          })
        }
        const answer = await services.engine.ingestWebhook(
          req.params.id,
          req.rawBody,
          req.headers,
          req.ip,
          req.body,
        )
        const answered = await responder.reply(answer)
        if (!answered.rendered) return reply.code(answered.code).send(answered.body)
        // The workflow's own body under any status it chose: not shaped by the route's
        // response schemas (a 404 it renders is not an ErrorBody).
        return reply
          .code(answered.code)
          .type('application/json; charset=utf-8')
          .serializer((payload) => JSON.stringify(payload) ?? 'null')
          .send(answered.body)
      },
    )
  }
}
