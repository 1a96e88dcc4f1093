import { type FetchResponse, PluginError } from '@stavily/sdk'

/** One series of an instant query's result, with its value as Prometheus wrote it. */
export interface Sample {
  labels: Record<string, string>
  /** The value as a number (`NaN`, `±Infinity` included). */
  value: number
  /** The value as Prometheus sent it: "0.93", "NaN", "+Inf". */
  valueText: string
  /** The evaluation time, ISO 8601. */
  time: string
}

/** Error codes of this plugin; retryable ones may succeed on the next check. */
export const Codes = {
  /** Prometheus refused the query (HTTP 400 bad_data): fix config.query. */
  QUERY_INVALID: 'PROMETHEUS_QUERY_INVALID',
  /** The query could not be executed (HTTP 422). */
  QUERY_FAILED: 'PROMETHEUS_QUERY_FAILED',
  /** Timed out, aborted, overloaded or unreachable: retryable. */
  UNAVAILABLE: 'PROMETHEUS_UNAVAILABLE',
  /** 401/403: the token is missing or wrong. */
  UNAUTHORIZED: 'PROMETHEUS_UNAUTHORIZED',
  /** Any other answer that is not the Prometheus API's. */
  BAD_RESPONSE: 'PROMETHEUS_BAD_RESPONSE',
  /** A range vector or string result: a threshold needs an instant vector or a scalar. */
  UNSUPPORTED_RESULT: 'PROMETHEUS_UNSUPPORTED_RESULT',
} as const

/** How much of a non-API body goes into an error message. */
const EXCERPT = 200

interface Envelope {
  status?: unknown
  data?: unknown
  errorType?: unknown
  error?: unknown
  warnings?: unknown
}

/** The samples of an instant query's response, or a PluginError describing Prometheus's answer. */
export function parseResponse(res: FetchResponse): { samples: Sample[]; warnings: string[] } {
  let envelope: Envelope | undefined
  try {
    const parsed = res.json()
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) envelope = parsed as Envelope
  } catch {
    envelope = undefined
  }
  if (envelope === undefined || (envelope.status !== 'success' && envelope.status !== 'error')) {
    // Not the API's envelope: a proxy's error page, a wrong URL.
    const retryable = res.status >= 500 || res.status === 429
    const hint = res.status === 404 ? ' (is config.url the Prometheus base URL?)' : ''
    throw new PluginError(
      res.status === 401 || res.status === 403
        ? Codes.UNAUTHORIZED
        : retryable
          ? Codes.UNAVAILABLE
          : Codes.BAD_RESPONSE,
      `Prometheus answered HTTP ${res.status} without an API response${hint}${excerpt(res.body)}`,
      { retryable, data: { status: res.status } },
    )
  }
  if (envelope.status === 'error' || !res.ok) {
    throw apiError(
      res.status,
      String(envelope.errorType ?? 'unknown'),
      String(envelope.error ?? 'no message'),
    )
  }
  const warnings = Array.isArray(envelope.warnings) ? envelope.warnings.map(String) : []
  return { samples: samplesOf(envelope.data), warnings }
}

function apiError(status: number, errorType: string, message: string): PluginError {
  const data = { status, errorType }
  if (status === 400 || errorType === 'bad_data') {
    return new PluginError(Codes.QUERY_INVALID, `config.query: Prometheus rejected the query: ${message}`, {
      data,
    })
  }
  if (status === 401 || status === 403) {
    return new PluginError(
      Codes.UNAUTHORIZED,
      `Prometheus refused the request (HTTP ${status}): ${message}`,
      { data },
    )
  }
  if (status === 422 || errorType === 'execution') {
    return new PluginError(Codes.QUERY_FAILED, `Prometheus could not execute the query: ${message}`, { data })
  }
  // 503 (timeout, canceled), other 5xx and 429: the next check may well succeed.
  const retryable = status >= 500 || status === 429 || errorType === 'timeout' || errorType === 'canceled'
  return new PluginError(
    retryable ? Codes.UNAVAILABLE : Codes.BAD_RESPONSE,
    `Prometheus answered HTTP ${status} (${errorType}): ${message}`,
    { retryable, data },
  )
}

function samplesOf(data: unknown): Sample[] {
  const d = (typeof data === 'object' && data !== null ? data : {}) as {
    resultType?: unknown
    result?: unknown
  }
  switch (d.resultType) {
    case 'vector': {
      if (!Array.isArray(d.result)) throw malformed('data.result is not an array')
      return d.result.flatMap((entry, i): Sample[] => {
        const e = (entry ?? {}) as { metric?: unknown; value?: unknown; histogram?: unknown }
        // A native histogram sample has no single value to compare: it is skipped.
        if (e.value === undefined && e.histogram !== undefined) return []
        return [{ labels: labelsOf(e.metric, i), ...readValue(e.value, `data.result[${i}].value`) }]
      })
    }
    case 'scalar':
      return [{ labels: {}, ...readValue(d.result, 'data.result') }]
    case 'matrix':
      throw new PluginError(
        Codes.UNSUPPORTED_RESULT,
        'config.query: returns a range vector (matrix); compare an instant vector instead, e.g. wrap it in max_over_time(...) or rate(...)',
      )
    case 'string':
      throw new PluginError(
        Codes.UNSUPPORTED_RESULT,
        'config.query: returns a string; a threshold needs a number',
      )
    default:
      throw malformed(`unknown resultType ${JSON.stringify(d.resultType)}`)
  }
}

function labelsOf(metric: unknown, index: number): Record<string, string> {
  if (typeof metric !== 'object' || metric === null || Array.isArray(metric)) {
    throw malformed(`data.result[${index}].metric is not an object`)
  }
  const labels: Record<string, string> = {}
  for (const [key, value] of Object.entries(metric)) labels[key] = String(value)
  return labels
}

function readValue(pair: unknown, where: string): Omit<Sample, 'labels'> {
  if (
    !Array.isArray(pair) ||
    pair.length !== 2 ||
    typeof pair[0] !== 'number' ||
    typeof pair[1] !== 'string'
  ) {
    throw malformed(`${where} is not [time, "value"]`)
  }
  return { value: parseValue(pair[1]), valueText: pair[1], time: new Date(pair[0] * 1000).toISOString() }
}

/** Prometheus writes special values as "NaN", "+Inf" and "-Inf", which Number() does not read. */
export function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY
  if (text === '-Inf') return Number.NEGATIVE_INFINITY
  if (text === 'NaN') return Number.NaN
  const value = Number(text)
  if (text.trim() === '' || Number.isNaN(value))
    throw malformed(`sample value ${JSON.stringify(text)} is not a number`)
  return value
}

function malformed(what: string): PluginError {
  return new PluginError(Codes.BAD_RESPONSE, `Prometheus sent a malformed query result: ${what}`)
}

function excerpt(body: string): string {
  const text = body.trim()
  if (text === '') return ''
  return `: ${text.length > EXCERPT ? `${text.slice(0, EXCERPT)}…` : text}`
}
