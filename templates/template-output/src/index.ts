import { defineOutput, PluginError, Type } from '@stavily/sdk'

/** The secret's name, as declared in permissions.secrets; the operator stores its value. */
const TOKEN_SECRET = 'WEBHOOK_TOKEN'

/** Webhook receivers answer fast or not at all; a longer wait only delays the retry. */
const TIMEOUT_MS = 10_000

/**
 * Posts a JSON message to a webhook with a bearer token. The token is a secret the
 * operator stores, never part of the config, so it stays out of workflow definitions and logs.
 */
export default defineOutput({
  config: Type.Object({
    url: Type.String({
      // https only: the request carries the token.
      pattern: '^https://[^/\\s]+',
      description: 'The webhook URL; its host must be listed in permissions.net in package.json',
    }),
  }),
  input: Type.Object({
    title: Type.String({ minLength: 1, maxLength: 200 }),
    text: Type.String({ maxLength: 10_000 }),
    severity: Type.Optional(
      Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
    ),
  }),
  output: Type.Object({
    delivered: Type.Boolean(),
    status: Type.Integer(),
  }),

  async send(ctx, input) {
    const token = await ctx.secrets.get(TOKEN_SECRET)
    const res = await ctx.fetch(ctx.config.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        // The same across retries of this step, so a receiver that honours it posts once.
        'idempotency-key': ctx.idempotencyKey,
      },
      body: JSON.stringify({ title: input.title, text: input.text, severity: input.severity ?? 'info' }),
      timeoutMs: TIMEOUT_MS,
    })

    if (!res.ok) {
      // 5xx and 429 are the receiver's temporary trouble; other 4xx (bad token, bad URL) are ours to fix.
      const retryable = res.status >= 500 || res.status === 429
      throw new PluginError('WEBHOOK_REJECTED', `the webhook answered HTTP ${res.status}`, {
        retryable,
        data: { status: res.status, body: res.body.slice(0, 500) },
      })
    }
    return { delivered: true, status: res.status }
  },
})
