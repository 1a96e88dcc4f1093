import { ComparisonOperator, ErrorCodes, PluginError, type Static, Type } from '@stavily/sdk'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  /** Prometheus's own default query timeout is 2 minutes; a sensor check should give up sooner. */
  timeoutMs: 10_000,
  /** Enough for a per-instance alert across a fleet; more usually means a query missing an aggregation. */
  maxSeries: 100,
} as const

// Schema patterns are run by the agent outside the sandbox, so they stay simple; finer
// checks happen in `checkConfig`.
export const Config = Type.Object(
  {
    url: Type.String({
      pattern: '^https?://[^\\s/?#]+',
      maxLength: 2048,
      description: 'The Prometheus base URL, e.g. http://localhost:9090 (the sensor adds /api/v1/query)',
    }),
    query: Type.String({ minLength: 1, maxLength: 20_000, description: 'A PromQL expression' }),
    operator: ComparisonOperator,
    threshold: Type.Number(),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
    bearerToken: Type.Optional(
      Type.Boolean({ description: 'Send the PROMETHEUS_TOKEN secret as "Authorization: Bearer …"' }),
    ),
    notifyResolved: Type.Optional(Type.Boolean()),
    maxSeries: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
)

export type PrometheusConfig = Static<typeof Config>

export interface Settings {
  endpoint: string
  query: string
  operator: ComparisonOperator
  threshold: number
  name: string
  timeoutMs: number
  bearerToken: boolean
  notifyResolved: boolean
  maxSeries: number
}

export function checkConfig(config: PrometheusConfig): Settings {
  if (/[?#]/.test(config.url)) {
    throw invalid(
      'url',
      `must be the Prometheus base URL without a query or fragment, got ${JSON.stringify(config.url)}`,
    )
  }
  const base = config.url.replace(/\/+$/, '')
  if (/\/api\/v1(\/query)?$/.test(base)) {
    throw invalid(
      'url',
      `must be the Prometheus base URL (e.g. "http://localhost:9090"); the sensor adds /api/v1/query itself`,
    )
  }
  if (!Number.isFinite(config.threshold)) throw invalid('threshold', 'must be a finite number')
  return {
    endpoint: `${base}/api/v1/query`,
    query: config.query,
    operator: config.operator,
    threshold: config.threshold,
    name: config.name ?? config.query,
    timeoutMs: config.timeoutMs ?? DEFAULTS.timeoutMs,
    bearerToken: config.bearerToken ?? false,
    notifyResolved: config.notifyResolved ?? false,
    maxSeries: config.maxSeries ?? DEFAULTS.maxSeries,
  }
}

function invalid(field: string, message: string): PluginError {
  return new PluginError(ErrorCodes.INVALID_CONFIG, `config.${field}: ${message}`, { data: { field } })
}
