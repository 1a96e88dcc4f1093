// PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-API-v2/overview/):
// one endpoint, POST /v2/enqueue, JSON body. The routing key (the integration key of an
// "Events API v2" integration) travels in the body, not in a header. A trigger carries a
// payload (summary, source, severity required); acknowledge and resolve carry only the
// routing key, the action and the dedup_key of the alert they act on. PagerDuty answers 202
// with { status, message, dedup_key }, and 400 with { status, message, errors[] }.
import type { JsonValue } from '@stavily/sdk'
import type { Escalation } from './escalation.ts'

/** The path the Events API v2 takes events on. */
export const PAGERDUTY_PATH = '/v2/enqueue'

/** PagerDuty's limits: a summary of 1024 characters is cut by PagerDuty itself; cut it here so the text is ours. */
const SUMMARY_MAX = 1024

export function pagerdutyRequest(base: string, routingKey: string, e: Escalation) {
  const body: Record<string, JsonValue> = {
    routing_key: routingKey,
    event_action: e.action,
    dedup_key: e.dedupKey,
  }
  if (e.action === 'trigger') {
    const payload: Record<string, JsonValue> = {
      summary: cut(e.summary, SUMMARY_MAX),
      source: e.source,
      severity: e.severity,
      timestamp: e.timestamp,
    }
    if (e.component !== undefined) payload.component = e.component
    if (e.group !== undefined) payload.group = e.group
    if (e.class !== undefined) payload.class = e.class
    if (e.customDetails !== undefined) payload.custom_details = e.customDetails
    body.payload = payload
    body.client = e.client
    if (e.link !== undefined) {
      body.client_url = e.link
      body.links = [{ href: e.link, text: e.linkText }]
    }
  }
  return {
    url: `${base}${PAGERDUTY_PATH}`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }
}

/** The refusal's text as PagerDuty gives it: `message` and each of `errors`. */
export function pagerdutyMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const { message, errors } = body as { message?: unknown; errors?: unknown }
  const parts: string[] = []
  if (typeof message === 'string' && message !== '') parts.push(message)
  if (Array.isArray(errors)) for (const e of errors) if (typeof e === 'string') parts.push(e)
  return parts.length > 0 ? parts.join('; ') : undefined
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}
