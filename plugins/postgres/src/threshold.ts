import {
  compareToThreshold,
  type EmittedEvent,
  fingerprint,
  type JsonValue,
  PluginError,
  type SensorContext,
} from '@stavily/sdk'
import type { Settings } from './config.ts'

type ThresholdSettings = Extract<Settings, { mode: 'threshold' }>
type Row = Record<string, JsonValue>

/** The series over the threshold, by series id: when each went over and its key columns. */
export type OverSeries = Record<string, { since: string; key: Row }>

/**
 * Runs the query and compares each row's value with the threshold. Each row is a series,
 * named by its other columns (a query of one row and one column is one series). Returns the
 * events and the series over the threshold now.
 */
export async function compareRows(
  ctx: SensorContext<unknown, unknown>,
  s: ThresholdSettings,
  id: string,
  previous: OverSeries,
  now: string,
): Promise<{ events: EmittedEvent<JsonValue>[]; over: OverSeries }> {
  const result = await ctx.sql.query(s.connection, s.query, s.params, {
    timeoutMs: s.timeoutMs,
    // Every series the query can hold, plus one to tell "exactly the limit" from "more".
    maxRows: 1000,
  })
  if (result.rows.length > 0 && !result.fields.includes(s.valueColumn)) {
    throw new PluginError(
      'POSTGRES_NO_VALUE_COLUMN',
      `config.query: the rows have no column "${s.valueColumn}" (they have ${result.fields.map((f) => `"${f}"`).join(', ')}); alias the value AS ${s.valueColumn} or set config.valueColumn`,
      { data: { field: 'valueColumn', columns: result.fields } },
    )
  }
  const events: EmittedEvent<JsonValue>[] = []
  const over: OverSeries = {}
  const seen = new Set<string>()
  for (const row of result.rows) {
    const key: Row = {}
    for (const [column, value] of Object.entries(row)) if (column !== s.valueColumn) key[column] = value
    const series = fingerprint(JSON.stringify(Object.entries(key).sort(([a], [b]) => (a < b ? -1 : 1))))
    seen.add(series)
    const value = numberOf(row[s.valueColumn])
    const crossing = value !== null && compareToThreshold(value, s.operator, s.threshold)
    const was = previous[series]
    if (crossing) {
      if (was !== undefined) {
        over[series] = was
        continue
      }
      if (Object.keys(over).length >= s.maxSeries) {
        ctx.log.warn('more series over the threshold than maxSeries; the rest wait for a later check', {
          maxSeries: s.maxSeries,
        })
        continue
      }
      over[series] = { since: now, key }
      events.push({
        type: 'postgres.threshold',
        data: {
          name: s.name,
          connection: s.connection,
          key,
          row,
          value,
          operator: s.operator,
          threshold: s.threshold,
          since: now,
        },
        // Names the breach by when it began: emitted again after a failed check, it starts no second run.
        dedupeKey: `postgres:${id}:${series}:over:${now}`,
        occurredAt: now,
      })
    } else if (was !== undefined) {
      events.push(resolved(s, id, series, was, value, now))
    }
  }
  // A series that left the result is resolved too.
  for (const [series, was] of Object.entries(previous)) {
    if (!seen.has(series) && over[series] === undefined) events.push(resolved(s, id, series, was, null, now))
  }
  return { events: s.notifyResolved ? events : events.filter((e) => e.type !== 'postgres.resolved'), over }
}

function resolved(
  s: ThresholdSettings,
  id: string,
  series: string,
  was: { since: string; key: Row },
  value: number | null,
  now: string,
): EmittedEvent<JsonValue> {
  return {
    type: 'postgres.resolved',
    data: { name: s.name, connection: s.connection, key: was.key, value, since: was.since },
    dedupeKey: `postgres:${id}:${series}:resolved:${was.since}`,
    occurredAt: now,
  }
}

/** A column value as a number: numbers, and numeric/bigint values (which arrive as strings). */
export function numberOf(value: JsonValue | undefined): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value)
    return Number.isFinite(n) ? n : null
  }
  if (typeof value === 'boolean') return value ? 1 : 0
  return null
}

/** A stored value if it is one this plugin wrote; anything else is no series over. */
export function readOverSeries(value: unknown): OverSeries {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {}
  const out: OverSeries = {}
  for (const [series, v] of Object.entries(value as Record<string, unknown>)) {
    const entry = v as { since?: unknown; key?: unknown } | null
    if (
      typeof entry === 'object' &&
      entry !== null &&
      typeof entry.since === 'string' &&
      typeof entry.key === 'object' &&
      entry.key !== null &&
      !Array.isArray(entry.key)
    ) {
      out[series] = { since: entry.since, key: entry.key as Row }
    }
  }
  return out
}
