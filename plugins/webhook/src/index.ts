import {
  bodyExcerpt,
  defineOutput,
  ErrorCodes,
  type FetchResponse,
  isConfigurationError,
  isRetryableStatus,
  PluginError,
  Type,
} from '@stavily/sdk'
import { mattermostPayload, teamsPayload } from './chat-formats.ts'
import { type Message, slackPayload } from './slack.ts'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  /** Chat and webhook receivers answer in well under a second; past this, retry later. */
  timeoutMs: 10_000,
} as const

/** The secret a configured `secretHeader` carries. */
export const SECRET_NAME = 'WEBHOOK_SECRET'
/** The secret that holds the URL when `urlFromSecret` is set (a Slack webhook URL is a credential). */
export const URL_SECRET_NAME = 'WEBHOOK_URL'
const URL_PATTERN = /^https?:\/\/[^\s/?#]+/

/** Error codes of this plugin. */
export const Codes = {
  /** The receiver refused the request (4xx): retrying the same request will not help. */
  REJECTED: 'WEBHOOK_REJECTED',
  /** The receiver failed or could not be reached (5xx, 408, 429, network, timeout): retryable. */
  UNAVAILABLE: 'WEBHOOK_UNAVAILABLE',
} as const

/** How much of a refusal's body the error quotes. */
const EXCERPT = 300

const Format = Type.Union([
  Type.Literal('json'),
  Type.Literal('slack'),
  Type.Literal('mattermost'),
  Type.Literal('teams'),
])

const Config = Type.Object(
  {
    url: Type.Optional(
      Type.String({
        pattern: '^https?://[^\\s/?#]+',
        maxLength: 2048,
        description: 'Where to POST; its host must be declared in permissions.net and granted',
      }),
    ),
    urlFromSecret: Type.Optional(
      Type.Boolean({ description: `Read the URL from the ${URL_SECRET_NAME} secret instead of config.url` }),
    ),
    format: Type.Optional(Format),
    headers: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]+$' }), Type.String())),
    secretHeader: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9-]+$',
        maxLength: 100,
        description: `A header that carries the ${SECRET_NAME} secret, e.g. "authorization"`,
      }),
    ),
    secretPrefix: Type.Optional(
      Type.String({ maxLength: 50, description: 'Put before the secret, e.g. "Bearer "' }),
    ),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000 })),
  },
  { additionalProperties: false },
)

const Input = Type.Object(
  {
    text: Type.String({ minLength: 1, maxLength: 40_000 }),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    status: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'e.g. "succeeded" or "failed"' }),
    ),
    fields: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
    ),
    link: Type.Optional(Type.String({ pattern: '^https?://', maxLength: 3000 })),
    /** json format only: any JSON, sent as it is. */
    data: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
)

const Output = Type.Object({
  /** The receiver's HTTP status. */
  status: Type.Integer(),
  format: Format,
})

/**
 * POSTs a workflow's result to a webhook: as a JSON document (`format: "json"`), a
 * Slack message with `text` and blocks (`"slack"`), a Mattermost / Rocket.Chat message
 * (`"mattermost"`) or a Microsoft Teams Adaptive Card (`"teams"`). A 4xx answer fails
 * for good; a 5xx, 408, 429 or a network failure fails as retryable, so the orchestrator
 * tries again. Every request carries `idempotency-key` (the same across retries of a step),
 * so a receiver can drop a repeat.
 */
export default defineOutput({
  config: Config,
  input: Input,
  output: Output,

  async send(ctx, input) {
    const config = ctx.config
    const format = config.format ?? 'json'
    const url = await targetUrl(ctx.secrets, config)
    if (config.secretPrefix !== undefined && config.secretHeader === undefined) {
      throw new PluginError(
        ErrorCodes.INVALID_CONFIG,
        'config.secretPrefix: is only used with config.secretHeader',
        {
          data: { field: 'secretPrefix' },
        },
      )
    }
    if (format !== 'json' && input.data !== undefined) {
      throw new PluginError(
        ErrorCodes.INVALID_INPUT,
        `input.data: a ${format} message has no place for raw data; put what matters in input.fields, or use format "json"`,
        { data: { field: 'data' } },
      )
    }
    const body = payload(format, input, ctx.idempotencyKey)
    const headers: Record<string, string> = {
      ...(config.headers ?? {}),
      'content-type': 'application/json',
      'idempotency-key': ctx.idempotencyKey,
    }
    if (config.secretHeader !== undefined) {
      headers[config.secretHeader.toLowerCase()] =
        `${config.secretPrefix ?? ''}${await ctx.secrets.get(SECRET_NAME)}`
    }

    let res: FetchResponse
    try {
      res = await ctx.fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        timeoutMs: config.timeoutMs ?? DEFAULTS.timeoutMs,
      })
    } catch (error) {
      // A denied host or bad argument is configuration: fail as it is, not as "try again".
      if (isConfigurationError(error)) throw error
      const message = withoutUrls(error instanceof Error ? error.message : String(error))
      throw new PluginError(Codes.UNAVAILABLE, `webhook ${host(url)} unreachable: ${message}`, {
        retryable: true,
      })
    }
    if (!res.ok) {
      // 408 and 429 are the receiver asking to come back later; other 4xx are final.
      const retryable = isRetryableStatus(res.status)
      const said = bodyExcerpt(res.body, EXCERPT)
      throw new PluginError(
        retryable ? Codes.UNAVAILABLE : Codes.REJECTED,
        `webhook ${host(url)} answered HTTP ${res.status}${said === '' ? '' : `: ${said}`}`,
        { retryable, data: { status: res.status } },
      )
    }
    ctx.log.info('webhook delivered', { host: host(url), status: res.status, format })
    return { status: res.status, format }
  },
})

function payload(
  format: 'json' | 'slack' | 'mattermost' | 'teams',
  input: Message & { data?: unknown },
  idempotencyKey: string,
): unknown {
  switch (format) {
    case 'slack':
      return slackPayload(input)
    case 'mattermost':
      return mattermostPayload(input)
    case 'teams':
      return teamsPayload(input)
    case 'json':
      return { ...input, idempotencyKey, sentAt: new Date().toISOString() }
  }
}

async function targetUrl(
  secrets: { get(name: string): Promise<string> },
  config: { url?: string; urlFromSecret?: boolean },
): Promise<string> {
  const invalid = (field: string, message: string) =>
    new PluginError(ErrorCodes.INVALID_CONFIG, `config.${field}: ${message}`, { data: { field } })
  if (config.urlFromSecret === true) {
    if (config.url !== undefined) throw invalid('url', `give config.url or config.urlFromSecret, not both`)
    const url = (await secrets.get(URL_SECRET_NAME)).trim()
    if (!URL_PATTERN.test(url)) {
      // The value is a secret: say what is wrong without showing it.
      throw invalid('urlFromSecret', `the ${URL_SECRET_NAME} secret is not an http(s) URL`)
    }
    return url
  }
  if (config.url === undefined)
    throw invalid('url', `is required (or set config.urlFromSecret to read ${URL_SECRET_NAME})`)
  return config.url
}

/** Error text with each URL cut to its origin: a webhook URL's path is often its token. */
function withoutUrls(text: string): string {
  // A message's own punctuation after the URL ("…/XXX: timed out") is kept.
  return text.replace(/(https?:\/\/[^\s/?#]+)\S*/g, (url: string, origin: string) =>
    /[:,.;]$/.test(url) ? `${origin}${url.slice(-1)}` : origin,
  )
}

/** The URL's host, for messages: webhook URLs often carry a token in their path. */
function host(url: string): string {
  return url.replace(/^https?:\/\//, '').split(/[/?#]/)[0] ?? url
}
