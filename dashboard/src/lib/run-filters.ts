import type { Query } from './api.ts'
import type { LiveEvent } from './stream.ts'

// The runs list's filters (kept in the page's URL, so a filtered list is a deep link) and
// how a live event changes the rows shown.

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]

export const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled', 'timed_out'])

/** Time windows the page offers; the API takes an ISO time (`since`). */
export const SINCE_PRESETS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 604_800_000 } as const
export type SincePreset = keyof typeof SINCE_PRESETS

export interface RunFilters {
  workflow: string
  status: RunStatus | ''
  /** A preset (`24h`) or an ISO time; empty for any time. */
  since: string
}

export interface RunSummary {
  id: string
  workflowId: string
  workflowName: string
  workflowVersion: number
  status: string
  event: unknown
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
}

const ISO = /^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/

export function filtersFromParams(params: URLSearchParams): RunFilters {
  const status = params.get('status') ?? ''
  const since = params.get('since') ?? ''
  return {
    workflow: (params.get('workflow') ?? '').trim(),
    status: (RUN_STATUSES as readonly string[]).includes(status) ? (status as RunStatus) : '',
    since: since in SINCE_PRESETS || ISO.test(since) ? since : '',
  }
}

/** The page URL's query for these filters (empty ones left out). */
export function filtersToParams(f: RunFilters): URLSearchParams {
  const p = new URLSearchParams()
  if (f.workflow) p.set('workflow', f.workflow)
  if (f.status) p.set('status', f.status)
  if (f.since) p.set('since', f.since)
  return p
}

/** The earliest creation time the filters allow, or null for any time. */
export function sinceTime(f: RunFilters, now: number): Date | null {
  if (!f.since) return null
  const preset = SINCE_PRESETS[f.since as SincePreset]
  if (preset !== undefined) return new Date(now - preset)
  const t = new Date(f.since)
  return Number.isNaN(t.getTime()) ? null : t
}

/** GET /runs's query for these filters. */
export function filtersToQuery(f: RunFilters, now: number): Query {
  return {
    workflow: f.workflow || undefined,
    status: f.status || undefined,
    since: sinceTime(f, now)?.toISOString(),
  }
}

/** Whether a run belongs in the list the filters describe. */
export function matchesFilters(run: RunSummary, f: RunFilters, now: number): boolean {
  if (f.workflow && f.workflow !== run.workflowId && f.workflow !== run.workflowName) return false
  if (f.status && run.status !== f.status) return false
  const since = sinceTime(f, now)
  return !since || new Date(run.createdAt).getTime() >= since.getTime()
}

export type RunEventEffect =
  | { kind: 'updated'; rows: RunSummary[] }
  /** A run the page has not seen: read it (GET /runs/:id), then `insertRun`. */
  | { kind: 'fetch'; runId: string }
  | { kind: 'none' }

/**
 * What a `run` event does to the rows: a shown run takes its new status (and the time it
 * started or finished, as the page saw it); an unknown one is to be read, since the event
 * does not carry the whole summary.
 */
export function applyRunEvent(rows: RunSummary[], event: LiveEvent, at: string): RunEventEffect {
  if (event.type !== 'run') return { kind: 'none' }
  const { runId, status } = event.data
  if (typeof runId !== 'string' || typeof status !== 'string') return { kind: 'none' }
  const i = rows.findIndex((r) => r.id === runId)
  if (i < 0) return { kind: 'fetch', runId }
  const row = rows[i]!
  if (row.status === status || TERMINAL.has(row.status)) return { kind: 'none' }
  const next: RunSummary = { ...row, status }
  if (status === 'running' && !next.startedAt) next.startedAt = at
  if (TERMINAL.has(status) && !next.finishedAt) next.finishedAt = at
  const out = rows.slice()
  out[i] = next
  return { kind: 'updated', rows: out }
}

/** Adds a run read after its event, newest first, if the filters want it and it is new. */
export function insertRun(rows: RunSummary[], run: RunSummary, f: RunFilters, now: number): RunSummary[] {
  if (rows.some((r) => r.id === run.id) || !matchesFilters(run, f, now)) return rows
  const out = [...rows, run]
  out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
  return out
}
