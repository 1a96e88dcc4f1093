// What the sensor remembers per metric between checks, and the change one reading makes.
// Pure: a reading in, the next state and the event to report (if any) out.

export interface MetricState {
  status: 'ok' | 'over'
  /** Consecutive readings over the threshold while ok, and when the first of them was. */
  streak: number
  streakSince: string | null
  /** When the metric went over (while over). */
  since: string | null
}

export type Crossing =
  | { kind: 'over'; since: string; checks: number }
  | { kind: 'recovered'; since: string | null }
  | undefined

export const OK: MetricState = { status: 'ok', streak: 0, streakSince: null, since: null }

/**
 * A value over `threshold` for `forChecks` readings in a row goes over (dated from the first
 * of them); an over metric recovers once its value is at most `threshold - hysteresis`, so a
 * value hovering at the threshold does not report over and recovered on every check.
 */
export function step(
  previous: MetricState,
  value: number | null,
  now: string,
  limits: { threshold: number; hysteresis: number; forChecks: number },
): { next: MetricState; crossing: Crossing } {
  if (value === null) return { next: previous, crossing: undefined }
  if (previous.status === 'over') {
    if (value <= limits.threshold - limits.hysteresis) {
      return { next: OK, crossing: { kind: 'recovered', since: previous.since } }
    }
    return { next: previous, crossing: undefined }
  }
  if (value <= limits.threshold) return { next: OK, crossing: undefined }
  const streak = previous.streak + 1
  const streakSince = previous.streakSince ?? now
  if (streak < limits.forChecks) return { next: { ...OK, streak, streakSince }, crossing: undefined }
  return {
    next: { status: 'over', streak: 0, streakSince: null, since: streakSince },
    crossing: { kind: 'over', since: streakSince, checks: streak },
  }
}

/** A stored value if it is one this plugin wrote; anything else starts from ok. */
export function readMetricState(value: unknown): MetricState {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return OK
  const v = value as Record<string, unknown>
  const time = (x: unknown) => x === null || typeof x === 'string'
  if (
    (v.status !== 'ok' && v.status !== 'over') ||
    typeof v.streak !== 'number' ||
    !time(v.streakSince) ||
    !time(v.since)
  ) {
    return OK
  }
  return {
    status: v.status,
    streak: v.streak,
    streakSince: v.streakSince as string | null,
    since: v.since as string | null,
  }
}
