// How times and durations read in the page.

/** `850 ms`, `4.2 s`, `3 min 5 s`, `2 h 10 min`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`
  const s = Math.round(ms / 1000)
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
}

/** Time between two ISO times; to `now` when the end is missing (still running). */
export function elapsed(start: string | null, end: string | null, now: number): string {
  if (!start) return '—'
  return duration((end ? Date.parse(end) : now) - Date.parse(start))
}

/** A local date and time, to the second. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString()
}

/** Any JSON value as indented text (`undefined` as an em dash). */
export function json(value: unknown): string {
  if (value === undefined) return '—'
  return JSON.stringify(value, null, 2)
}
