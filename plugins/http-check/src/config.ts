import { ErrorCodes, PluginError, type Static, Type } from '@stavily/sdk'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  /** Long enough for a slow but healthy endpoint, short enough to notice a hang at the next check. */
  timeoutMs: 10_000,
  /** Any 2xx: what "the endpoint answered normally" means for most health endpoints. */
  expectStatus: ['2xx'] as (number | string)[],
  /** Report the first failure: most health endpoints do not flap; raise it for ones that do. */
  failureThreshold: 1,
  recoveryThreshold: 1,
} as const

// Schema patterns are run by the agent outside the sandbox, so they stay simple (no nested
// or alternated quantifiers); finer checks happen in `checkConfig`.
export const Config = Type.Object(
  {
    url: Type.String({
      pattern: '^https?://[^\\s/?#]+',
      maxLength: 2048,
      description: 'The http(s) URL to request; its host must be declared in permissions.net and granted',
    }),
    name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'A name for the target, used in events and to keep its state (default: method and URL)',
      }),
    ),
    method: Type.Optional(Type.Union([Type.Literal('GET'), Type.Literal('HEAD')])),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    secretHeader: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9-]+$',
        maxLength: 100,
        description: 'A header that carries the HTTP_CHECK_SECRET secret, e.g. "authorization"',
      }),
    ),
    secretPrefix: Type.Optional(
      Type.String({ maxLength: 50, description: 'Put before the secret, e.g. "Bearer "' }),
    ),
    expectStatus: Type.Optional(
      Type.Array(
        Type.Union([Type.Integer({ minimum: 100, maximum: 599 }), Type.String({ pattern: '^[1-5]xx$' })]),
        {
          minItems: 1,
          maxItems: 50,
          description: 'Statuses that count as up: 200, or a class such as "2xx"',
        },
      ),
    ),
    maxLatencyMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
    bodyContains: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000 })),
    bodyMatches: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    bodyMatchesFlags: Type.Optional(Type.String({ pattern: '^[imsu]{0,4}$' })),
    failureThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    recoveryThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
)

export type HttpCheckConfig = Static<typeof Config>

/** The config with defaults applied and what the schema cannot say checked. */
export interface Settings {
  url: string
  name: string
  method: 'GET' | 'HEAD'
  headers: Record<string, string>
  /** The header that carries the secret, lower case, and what goes before the secret. */
  secretHeader: { name: string; prefix: string } | undefined
  expectStatus: (number | string)[]
  maxLatencyMs: number | undefined
  timeoutMs: number
  bodyContains: string | undefined
  bodyMatches: RegExp | undefined
  failureThreshold: number
  recoveryThreshold: number
}

export function checkConfig(config: HttpCheckConfig): Settings {
  const method = config.method ?? 'GET'
  if (method === 'HEAD' && (config.bodyContains !== undefined || config.bodyMatches !== undefined)) {
    throw invalid(
      config.bodyContains !== undefined ? 'bodyContains' : 'bodyMatches',
      'a HEAD response has no body; use method "GET" to check the body',
    )
  }
  if (config.secretPrefix !== undefined && config.secretHeader === undefined) {
    throw invalid('secretPrefix', 'is only used with config.secretHeader')
  }
  if (config.bodyMatchesFlags !== undefined && config.bodyMatches === undefined) {
    throw invalid('bodyMatchesFlags', 'is only used with config.bodyMatches; set it or remove the flags')
  }
  let bodyMatches: RegExp | undefined
  if (config.bodyMatches !== undefined) {
    try {
      bodyMatches = new RegExp(config.bodyMatches, config.bodyMatchesFlags ?? '')
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw invalid('bodyMatches', `is not a valid regular expression (${reason})`)
    }
  }
  return {
    url: config.url,
    name: config.name ?? `${method} ${config.url}`,
    method,
    headers: config.headers ?? {},
    secretHeader:
      config.secretHeader === undefined
        ? undefined
        : { name: config.secretHeader.toLowerCase(), prefix: config.secretPrefix ?? '' },
    expectStatus: config.expectStatus ?? DEFAULTS.expectStatus,
    maxLatencyMs: config.maxLatencyMs,
    timeoutMs: config.timeoutMs ?? DEFAULTS.timeoutMs,
    bodyContains: config.bodyContains,
    bodyMatches,
    failureThreshold: config.failureThreshold ?? DEFAULTS.failureThreshold,
    recoveryThreshold: config.recoveryThreshold ?? DEFAULTS.recoveryThreshold,
  }
}

function invalid(field: string, message: string): PluginError {
  return new PluginError(ErrorCodes.INVALID_CONFIG, `config.${field}: ${message}`, { data: { field } })
}
