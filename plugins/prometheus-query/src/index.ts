import {
  ComparisonOperator,
  compareToThreshold,
  defineSensor,
  type EmittedEvent,
  emitReliably,
  type FetchResponse,
  fingerprint,
  flushPendingEvents,
  isConfigurationError,
  type JsonValue,
  PluginError,
  Type,
} from '@stavily/sdk'
import { Config, checkConfig, type Settings } from './config.ts'
import { Codes, parseResponse, type Sample } from './response.ts'

const Labels = Type.Record(Type.String(), Type.String())
/** A JSON number when finite; NaN and ±Inf (not JSON) are null, with the text in valueText. */
const Value = Type.Union([Type.Number(), Type.Null()])

const Threshold = Type.Object({
  name: Type.String(),
  query: Type.String(),
  labels: Labels,
  value: Value,
  valueText: Type.String(),
  operator: ComparisonOperator,
  threshold: Type.Number(),
  /** When the sensor first saw this series cross the threshold (ISO 8601). */
  since: Type.String(),
  /** The evaluation time Prometheus reported. */
  sampleTime: Type.String(),
})

const Resolved = Type.Object({
  name: Type.String(),
  query: Type.String(),
  labels: Labels,
  /** The current value, or null when the series is no longer in the result. */
  value: Value,
  valueText: Type.Union([Type.String(), Type.Null()]),
  since: Type.String(),
})

/** What is kept per query between checks: the series over the threshold, by fingerprint. */
type Breaches = Record<string, { since: string; labels: Record<string, string> }>

/**
 * Runs a PromQL instant query on every check and compares each series with a threshold.
 * A series that starts crossing it emits `prometheus.threshold` once; while it stays over,
 * nothing more is emitted (the breach is kept in ctx.state). With `notifyResolved`, a
 * series that stops crossing it emits `prometheus.resolved`.
 */
export default defineSensor({
  config: Config,
  event: Type.Union([Threshold, Resolved]),

  async check(ctx) {
    const settings = checkConfig(ctx.config)
    const queryId = fingerprint(
      `${settings.endpoint}\n${settings.query}\n${settings.operator}\n${settings.threshold}`,
    )
    const stateKey = `query:${queryId}`
    const pendingKey = `pending:${queryId}`
    await flushPendingEvents(ctx, pendingKey)
    const previous = readBreaches(await ctx.state.get(stateKey))

    const headers: Record<string, string> = { accept: 'application/json' }
    if (settings.bearerToken) headers.authorization = `Bearer ${await ctx.secrets.get('PROMETHEUS_TOKEN')}`
    const res = await request(ctx.fetch, settings, headers)
    const { samples, warnings } = parseResponse(res)
    for (const warning of warnings) ctx.log.warn('Prometheus warning', { query: settings.query, warning })

    const now = new Date().toISOString()
    const events: EmittedEvent<JsonValue>[] = []
    const current: Breaches = {}
    const seen = new Map<string, Sample>()
    let over = 0
    for (const sample of samples) {
      const id = fingerprint(seriesKey(sample.labels))
      seen.set(id, sample)
      if (!compareToThreshold(sample.value, settings.operator, settings.threshold)) continue
      over++
      if (over > settings.maxSeries) continue
      const known = previous[id]
      if (known !== undefined) {
        current[id] = known
        continue
      }
      // Labels are kept only for resolved events: a state value is limited (64 KiB on an
      // agent), and without them a breach costs a few dozen bytes.
      current[id] = { since: now, labels: settings.notifyResolved ? sample.labels : {} }
      events.push({
        type: 'prometheus.threshold',
        data: {
          name: settings.name,
          query: settings.query,
          labels: sample.labels,
          value: Number.isFinite(sample.value) ? sample.value : null,
          valueText: sample.valueText,
          operator: settings.operator,
          threshold: settings.threshold,
          since: now,
          sampleTime: sample.time,
        },
        dedupeKey: `prometheus:${queryId}:${id}:${now}`,
        occurredAt: now,
      })
    }
    if (over > settings.maxSeries) {
      ctx.log.warn('more series cross the threshold than config.maxSeries; the rest are not reported', {
        query: settings.query,
        series: over,
        maxSeries: settings.maxSeries,
      })
    }
    if (settings.notifyResolved) {
      for (const [id, breach] of Object.entries(previous)) {
        if (current[id] !== undefined) continue
        const sample = seen.get(id)
        events.push({
          type: 'prometheus.resolved',
          data: {
            name: settings.name,
            query: settings.query,
            labels: sample?.labels ?? breach.labels,
            value: sample !== undefined && Number.isFinite(sample.value) ? sample.value : null,
            valueText: sample?.valueText ?? null,
            since: breach.since,
          },
          dedupeKey: `prometheus:${queryId}:${id}:${breach.since}:resolved`,
          occurredAt: now,
        })
      }
    }
    ctx.log.debug('prometheus query checked', { query: settings.query, series: samples.length, over })
    await emitReliably(ctx, pendingKey, events, () =>
      Object.keys(current).length === 0 ? ctx.state.delete(stateKey) : ctx.state.set(stateKey, current),
    )
  },
})

async function request(
  fetch: (
    url: string,
    init: { headers: Record<string, string>; timeoutMs: number },
  ) => Promise<FetchResponse>,
  settings: Settings,
  headers: Record<string, string>,
): Promise<FetchResponse> {
  const url = `${settings.endpoint}?query=${encodeURIComponent(settings.query)}`
  try {
    return await fetch(url, { headers, timeoutMs: settings.timeoutMs })
  } catch (error) {
    // A denied host is the operator's configuration to fix; everything else the host's fetch
    // throws (refused, timed out, DNS) means Prometheus is unavailable right now.
    if (isConfigurationError(error)) throw error
    const message = error instanceof Error ? error.message : String(error)
    throw new PluginError(
      Codes.UNAVAILABLE,
      `Prometheus at ${settings.endpoint} is unreachable: ${message}`,
      {
        retryable: true,
      },
    )
  }
}

/** A series identity independent of label order. */
function seriesKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${JSON.stringify(labels[key])}`)
    .join(',')
}

function readBreaches(value: unknown): Breaches {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {}
  const out: Breaches = {}
  for (const [id, entry] of Object.entries(value)) {
    const e = entry as { since?: unknown; labels?: unknown }
    if (typeof e?.since === 'string' && typeof e.labels === 'object' && e.labels !== null) {
      out[id] = { since: e.since, labels: e.labels as Record<string, string> }
    }
  }
  return out
}
