import type { Probe } from './probe.ts'

/**
 * What the sensor remembers about one target between checks (in ctx.state). `status` is
 * `unknown` until the first check settles it; `since` is when the current status began.
 */
export interface TargetState {
  target: string
  status: 'unknown' | 'up' | 'down'
  since: string | null
  /** Consecutive failed checks, and when the first of them happened. */
  failures: number
  failingSince: string | null
  /** Consecutive good checks while down. */
  successes: number
}

export type Transition =
  | { kind: 'down'; since: string; failures: number }
  | { kind: 'up'; downSince: string | null }
  | undefined

/** The next state after `probe`, and the change to report, if any. Pure. */
export function step(
  previous: TargetState,
  probe: Probe,
  now: string,
  thresholds: { failureThreshold: number; recoveryThreshold: number },
): { next: TargetState; transition: Transition } {
  if (!probe.up) {
    const failures = previous.failures + 1
    const failingSince = previous.failingSince ?? now
    const next: TargetState = { ...previous, failures, failingSince, successes: 0 }
    if (previous.status !== 'down' && failures >= thresholds.failureThreshold) {
      // The outage began with the first failed check of the streak, not when the threshold was reached.
      return {
        next: { ...next, status: 'down', since: failingSince },
        transition: { kind: 'down', since: failingSince, failures },
      }
    }
    return { next, transition: undefined }
  }
  const successes = previous.successes + 1
  if (previous.status === 'down') {
    if (successes < thresholds.recoveryThreshold) {
      return { next: { ...previous, successes, failures: 0 }, transition: undefined }
    }
    return {
      next: { ...previous, status: 'up', since: now, failures: 0, failingSince: null, successes: 0 },
      transition: { kind: 'up', downSince: previous.since },
    }
  }
  // Up (or first seen up): nothing to report; a failure streak shorter than the threshold ends.
  return {
    next: {
      ...previous,
      status: 'up',
      since: previous.status === 'up' ? previous.since : now,
      failures: 0,
      failingSince: null,
      successes: 0,
    },
    transition: undefined,
  }
}

export function initialState(target: string): TargetState {
  return { target, status: 'unknown', since: null, failures: 0, failingSince: null, successes: 0 }
}

/** A stored value, if it is one this plugin wrote for this target; anything else starts afresh. */
export function readState(value: unknown, target: string): TargetState {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return initialState(target)
  const v = value as Record<string, unknown>
  const isTime = (x: unknown) => x === null || typeof x === 'string'
  if (
    v.target !== target ||
    (v.status !== 'unknown' && v.status !== 'up' && v.status !== 'down') ||
    !isTime(v.since) ||
    !isTime(v.failingSince) ||
    typeof v.failures !== 'number' ||
    typeof v.successes !== 'number'
  ) {
    return initialState(target)
  }
  return {
    target,
    status: v.status,
    since: v.since as string | null,
    failures: v.failures,
    failingSince: v.failingSince as string | null,
    successes: v.successes,
  }
}
