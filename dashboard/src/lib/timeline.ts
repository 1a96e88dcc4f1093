// A run's timeline: each step as a bar from its start to its end, placed on the run's span
// (its creation to its end, or to now while it runs), in percent so CSS draws it.

export interface TimedStep {
  stepId: string
  status: string
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
}

export interface Bar {
  stepId: string
  status: string
  /** Percent of the span from the run's start to the bar's start. */
  left: number
  /** Percent of the span the bar covers (at least a sliver, so an instant step shows). */
  width: number
  /** Milliseconds from the step's start to its end (or now); null if it never started. */
  ms: number | null
}

const MIN_WIDTH = 0.5

export function timeline(
  run: { createdAt: string; finishedAt: string | null },
  steps: readonly TimedStep[],
  now: number,
): { spanMs: number; bars: Bar[] } {
  const start = Date.parse(run.createdAt)
  let end = run.finishedAt ? Date.parse(run.finishedAt) : now
  for (const s of steps) {
    const e = s.finishedAt ? Date.parse(s.finishedAt) : s.startedAt ? now : Number.NaN
    if (e > end) end = e
  }
  const span = Math.max(1, end - start)
  const pct = (t: number) => Math.min(100, Math.max(0, ((t - start) / span) * 100))
  const bars = steps.map((s): Bar => {
    if (!s.startedAt) {
      return { stepId: s.stepId, status: s.status, left: pct(Date.parse(s.createdAt)), width: 0, ms: null }
    }
    const from = Date.parse(s.startedAt)
    const to = s.finishedAt ? Date.parse(s.finishedAt) : now
    const left = pct(from)
    return {
      stepId: s.stepId,
      status: s.status,
      left,
      width: Math.min(100 - left, Math.max(MIN_WIDTH, pct(to) - left)),
      ms: Math.max(0, to - from),
    }
  })
  return { spanMs: end - start, bars }
}
