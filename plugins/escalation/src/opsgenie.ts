// Opsgenie's Alert API (https://docs.opsgenie.com/docs/alert-api), the alias as the key:
//   create       POST /v2/alerts                                            { message, alias, … }
//   acknowledge  POST /v2/alerts/{alias}/acknowledge?identifierType=alias    { source, note? }
//   close        POST /v2/alerts/{alias}/close?identifierType=alias          { source, note? }
// with `Authorization: GenieKey <api key>`. Opsgenie answers 202 with
// { result, took, requestId } (it processes requests asynchronously), and 4xx with
// { message, errors?, took, requestId }.
import type { JsonValue } from '@stavily/sdk'
import type { Escalation } from './escalation.ts'

/** Opsgenie's limits on create: longer values are refused, so they are cut here. */
const LIMITS = { message: 130, description: 15_000, source: 100, entity: 512, detailValue: 8000 } as const

/** PagerDuty's severities as Opsgenie priorities: the same order, P1 the most urgent. */
export const PRIORITY = { critical: 'P1', error: 'P2', warning: 'P3', info: 'P5' } as const

export function opsgenieRequest(base: string, apiKey: string, e: Escalation) {
  const headers = { 'content-type': 'application/json', authorization: `GenieKey ${apiKey}` }
  if (e.action === 'trigger') {
    const body: Record<string, JsonValue> = {
      message: cut(e.summary, LIMITS.message),
      alias: e.dedupKey,
      // The whole summary when the message had to be cut: nothing the workflow wrote is lost.
      description: cut(e.summary, LIMITS.description),
      source: cut(e.source, LIMITS.source),
      priority: PRIORITY[e.severity],
    }
    if (e.component !== undefined) body.entity = cut(e.component, LIMITS.entity)
    if (e.tags !== undefined) body.tags = e.tags
    const details = opsgenieDetails(e)
    if (details !== undefined) body.details = details
    if (e.note !== undefined) body.note = e.note
    return { url: `${base}/v2/alerts`, headers, body: JSON.stringify(body) }
  }
  const verb = e.action === 'resolve' ? 'close' : 'acknowledge'
  const body: Record<string, JsonValue> = { source: cut(e.source, LIMITS.source) }
  if (e.note !== undefined) body.note = e.note
  return {
    url: `${base}/v2/alerts/${encodeURIComponent(e.dedupKey)}/${verb}?identifierType=alias`,
    headers,
    body: JSON.stringify(body),
  }
}

/** Opsgenie's details are a map of strings: other values are written as JSON. */
function opsgenieDetails(e: Escalation): Record<string, string> | undefined {
  const details: Record<string, string> = {}
  for (const [key, value] of Object.entries(e.customDetails ?? {})) {
    details[key] = cut(typeof value === 'string' ? value : JSON.stringify(value), LIMITS.detailValue)
  }
  if (e.link !== undefined) details.link = e.link
  return Object.keys(details).length > 0 ? details : undefined
}

/** The refusal's text as Opsgenie gives it: `message`, then each field error. */
export function opsgenieMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const { message, errors } = body as { message?: unknown; errors?: unknown }
  const parts: string[] = []
  if (typeof message === 'string' && message !== '') parts.push(message)
  if (typeof errors === 'object' && errors !== null && !Array.isArray(errors)) {
    for (const [field, text] of Object.entries(errors)) {
      if (typeof text === 'string') parts.push(`${field}: ${text}`)
    }
  }
  return parts.length > 0 ? parts.join('; ') : undefined
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}
