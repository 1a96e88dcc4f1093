import {
  bodyExcerpt,
  defineOutput,
  ErrorCodes,
  type FetchResponse,
  isConfigurationError,
  isRetryableStatus,
  type JsonValue,
  PluginError,
  Type,
} from '@stavily/sdk'
import type { Escalation } from './escalation.ts'
import { opsgenieMessage, opsgenieRequest } from './opsgenie.ts'
import { pagerdutyMessage, pagerdutyRequest } from './pagerduty.ts'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  /** Both vendors answer in well under a second (they queue events); past this, retry later. */
  timeoutMs: 10_000,
  /** The vendors' public endpoints; config.url replaces them (EU accounts, a proxy, a test receiver). */
  url: { pagerduty: 'https://events.pagerduty.com', opsgenie: 'https://api.opsgenie.com' },
  /** PagerDuty requires a source; the name of the system that sends is the honest default. */
  source: 'stavily',
  /** PagerDuty requires a severity: "error" pages without claiming the worst case. */
  severity: 'error',
  client: 'Stavily',
  linkText: 'Open in Stavily',
} as const

/** The secrets that hold each vendor's credential. */
export const SECRETS = { pagerduty: 'PAGERDUTY_ROUTING_KEY', opsgenie: 'OPSGENIE_API_KEY' } as const

const VENDOR = { pagerduty: 'PagerDuty', opsgenie: 'Opsgenie' } as const

/** Error codes of this plugin. */
export const Codes = {
  /** The vendor refused the request (4xx: a bad routing key, a malformed event): retrying will not help. */
  REJECTED: 'ESCALATION_REJECTED',
  /** The vendor failed, throttled or could not be reached (5xx, 408, 429, network, timeout): retryable. */
  UNAVAILABLE: 'ESCALATION_UNAVAILABLE',
} as const

/** How much of an unparsed refusal's body the error quotes. */
const EXCERPT = 300

const Severity = Type.Union([
  Type.Literal('critical'),
  Type.Literal('error'),
  Type.Literal('warning'),
  Type.Literal('info'),
])
const Provider = Type.Union([Type.Literal('pagerduty'), Type.Literal('opsgenie')])
const Action = Type.Union([Type.Literal('trigger'), Type.Literal('acknowledge'), Type.Literal('resolve')])

const Config = Type.Object(
  {
    provider: Provider,
    url: Type.Optional(
      Type.String({
        pattern: '^https?://[^\\s/?#]+[^\\s?#]*$',
        maxLength: 2048,
        description:
          'Base URL the vendor path is added to (/v2/enqueue, /v2/alerts); default the vendor’s public endpoint',
      }),
    ),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    severity: Type.Optional(Severity),
    client: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000 })),
  },
  { additionalProperties: false },
)

const Input = Type.Object(
  {
    action: Type.Optional(Action),
    dedupKey: Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'The incident key: the run id, or the alert fingerprint, so a later resolve finds it',
    }),
    summary: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    severity: Type.Optional(Severity),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    component: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    group: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    class: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    customDetails: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    link: Type.Optional(Type.String({ pattern: '^https?://', maxLength: 3000 })),
    /** Opsgenie only. */
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 20 })),
    /** Opsgenie only. */
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 25_000 })),
  },
  { additionalProperties: false },
)

const Output = Type.Object({
  provider: Provider,
  action: Action,
  dedupKey: Type.String(),
  /** The vendor's HTTP status (202 when it queued the event). */
  status: Type.Integer(),
  /** The vendor's own word: PagerDuty's `message`, Opsgenie's `result`. */
  message: Type.Union([Type.String(), Type.Null()]),
  /** Opsgenie's request id (to look the request up in Opsgenie), else null. */
  requestId: Type.Union([Type.String(), Type.Null()]),
})

/**
 * Pages the on-call: a PagerDuty Events API v2 event (`trigger`, `acknowledge`, `resolve`)
 * or an Opsgenie alert (create, acknowledge, close), keyed by `input.dedupKey` so a later
 * run resolves the incident an earlier one opened. A 4xx answer fails for good and quotes
 * the vendor's reason; a 5xx, 408, 429 or a network failure fails as retryable.
 */
export default defineOutput({
  config: Config,
  input: Input,
  output: Output,

  async send(ctx, input) {
    const config = ctx.config
    const provider = config.provider
    const action = input.action ?? 'trigger'
    const invalidInput = (field: string, message: string) =>
      new PluginError(ErrorCodes.INVALID_INPUT, `input.${field}: ${message}`, { data: { field } })
    if (action === 'trigger' && input.summary === undefined) {
      throw invalidInput('summary', 'is required to trigger: say what is wrong, e.g. "web-1 is down"')
    }
    if (provider === 'pagerduty') {
      for (const field of ['tags', 'note'] as const) {
        if (input[field] !== undefined)
          throw invalidInput(field, 'is an Opsgenie field; PagerDuty events have no place for it')
      }
    }
    const escalation: Escalation = {
      action,
      dedupKey: input.dedupKey,
      summary: input.summary ?? '',
      severity: input.severity ?? config.severity ?? DEFAULTS.severity,
      source: input.source ?? config.source ?? DEFAULTS.source,
      timestamp: new Date().toISOString(),
      client: config.client ?? DEFAULTS.client,
      linkText: DEFAULTS.linkText,
      ...(input.component === undefined ? {} : { component: input.component }),
      ...(input.group === undefined ? {} : { group: input.group }),
      ...(input.class === undefined ? {} : { class: input.class }),
      ...(input.customDetails === undefined
        ? {}
        : // Input arrives as JSON (validated at the sandbox boundary), so its values are JSON.
          { customDetails: input.customDetails as Record<string, JsonValue> }),
      ...(input.link === undefined ? {} : { link: input.link }),
      ...(input.tags === undefined ? {} : { tags: input.tags }),
      ...(input.note === undefined ? {} : { note: input.note }),
    }
    const base = (config.url ?? DEFAULTS.url[provider]).replace(/\/+$/, '')
    const credential = (await ctx.secrets.get(SECRETS[provider])).trim()
    if (credential === '') {
      throw new PluginError(
        ErrorCodes.INVALID_CONFIG,
        `config.provider: the ${SECRETS[provider]} secret is empty; set it with stavily secret set ${SECRETS[provider]}`,
        { data: { field: 'provider' } },
      )
    }
    const request =
      provider === 'pagerduty'
        ? pagerdutyRequest(base, credential, escalation)
        : opsgenieRequest(base, credential, escalation)

    const vendor = VENDOR[provider]
    let res: FetchResponse
    try {
      res = await ctx.fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        timeoutMs: config.timeoutMs ?? DEFAULTS.timeoutMs,
      })
    } catch (error) {
      // A denied host or bad argument is configuration: fail as it is, not as "try again".
      if (isConfigurationError(error)) throw error
      const message = error instanceof Error ? error.message : String(error)
      throw new PluginError(Codes.UNAVAILABLE, `${vendor} (${host(base)}) unreachable: ${message}`, {
        retryable: true,
      })
    }

    const answer = parse(res.body)
    const said = provider === 'pagerduty' ? pagerdutyMessage(answer) : opsgenieMessage(answer)
    if (!res.ok) {
      // 408 and 429 are the vendor asking to come back later; other 4xx are final.
      const retryable = isRetryableStatus(res.status)
      const retryAfterSeconds = retryAfter(res.headers['retry-after'])
      const reason = said ?? bodyExcerpt(res.body, EXCERPT)
      const message =
        `${vendor} ${retryable ? 'could not take' : 'refused'} the ${action} of "${input.dedupKey}" ` +
        `(HTTP ${res.status})${reason === '' ? '' : `: ${reason}`}` +
        (retryAfterSeconds === undefined ? '' : `; it asks to retry after ${retryAfterSeconds} s`)
      throw new PluginError(retryable ? Codes.UNAVAILABLE : Codes.REJECTED, message, {
        retryable,
        data: {
          status: res.status,
          ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
        },
      })
    }
    const fields = (answer ?? {}) as { message?: unknown; result?: unknown; requestId?: unknown }
    const vendorWord = provider === 'pagerduty' ? fields.message : fields.result
    ctx.log.info(`${vendor} ${action} accepted`, { dedupKey: input.dedupKey, status: res.status })
    return {
      provider,
      action,
      dedupKey: input.dedupKey,
      status: res.status,
      message: typeof vendorWord === 'string' ? vendorWord : null,
      requestId: typeof fields.requestId === 'string' ? fields.requestId : null,
    }
  },
})

function parse(body: string): unknown {
  try {
    return JSON.parse(body)
  } catch {
    return undefined
  }
}

/** `Retry-After` in seconds: a number of seconds, or an HTTP date. */
function retryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text)
  const at = Date.parse(text)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, Math.ceil((at - Date.now()) / 1000))
}

/** The URL's host, for messages. */
function host(url: string): string {
  return url.replace(/^https?:\/\//, '').split(/[/?#]/)[0] ?? url
}
