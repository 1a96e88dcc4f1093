import { type ExpressionContext, ExpressionError, renderTemplate, renderValue } from '../expressions/index.ts'
import { RESPOND_POLICY } from './schema.ts'
import type { WebhookRespond } from './types.ts'

// A webhook's answer once its run finished (trigger.webhook.respond): the status and body
// rendered with the finished run. Pure, so the hook route and the dry run render alike.
// A rendering failure is the workflow's, not the caller's nor the platform's: it is answered
// 200 with an error document naming the field, never a 5xx.

export interface RenderedResponse {
  status: number
  body: unknown
}

export function renderResponse(
  respond: WebhookRespond,
  ctx: ExpressionContext,
  run: { id: string; status: string },
): RenderedResponse {
  let field = 'trigger.webhook.respond.status'
  try {
    const status = statusOf(respond.status, ctx)
    field = 'trigger.webhook.respond.body'
    const body =
      respond.body === null || respond.body === undefined
        ? { runId: run.id, status: run.status }
        : renderValue(respond.body, ctx)
    return { status, body }
  } catch (err) {
    if (!(err instanceof ExpressionError) && !(err instanceof StatusError)) throw err
    return {
      status: 200,
      body: {
        runId: run.id,
        status: run.status,
        error: {
          code: 'STAVILY_ERR_WEBHOOK_RESPONSE',
          message: `${field}: ${err.message}`,
          field,
        },
      },
    }
  }
}

class StatusError extends Error {}

function statusOf(status: number | string, ctx: ExpressionContext): number {
  const value = typeof status === 'number' ? status : renderTemplate(status, ctx)
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN
  if (!Number.isInteger(n) || n < RESPOND_POLICY.minStatus || n > RESPOND_POLICY.maxStatus)
    throw new StatusError(
      `expected an HTTP status from ${RESPOND_POLICY.minStatus} to ${RESPOND_POLICY.maxStatus}, got ${JSON.stringify(value)}`,
    )
  return n
}
