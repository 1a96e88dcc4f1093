import type { WorkflowEvent } from '../../context.ts'

// A webhook trigger says who sends its requests (`provider`); each provider proves the
// request with its own header and shapes its body its own way. What every provider
// module gives the engine: whether the request is authentic, and the events it carries.

export const WEBHOOK_PROVIDERS = ['stavily', 'github', 'gitlab', 'gitea', 'alertmanager'] as const
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number]

/** Request headers, names lower-cased, as Node gives them. */
export type Headers = Readonly<Record<string, string | string[] | undefined>>

export interface ProviderRequest {
  headers: Headers
  body: Buffer
  /** The value of the secret the trigger names; undefined when not set (or no such hook). */
  secret: string | undefined
}

export type Authenticity = { ok: true } | { ok: false; message: string }

/**
 * The events a verified request carries. Each has a dedupe key: these providers sign no
 * timestamp, so the key (a push's ref and new commit, an alert's fingerprint, status and
 * start) is what makes a replayed or re-sent request start nothing new.
 */
export type ProviderEvent = WorkflowEvent & { dedupeKey: string }

export interface Provider {
  /** The header named in the 401 a caller gets (for the operator reading the sender's log). */
  credentialHeader: string
  /** Constant-time; with no secret the answer is that of a wrong credential. */
  authenticate(req: ProviderRequest): Authenticity
  /** The events of an authentic request whose body is valid JSON (`data`). */
  events(req: ProviderRequest, data: unknown): ProviderEvent[]
}

export function header(headers: Headers, name: string): string | undefined {
  const v = headers[name]
  return typeof v === 'string' ? v : undefined
}
