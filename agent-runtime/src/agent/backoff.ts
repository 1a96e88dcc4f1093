// Exponential backoff with full jitter, jittered intervals, and sleeps that end on abort.
import type { Intervals } from './defaults.ts'

export class Backoff {
  private failures = 0
  constructor(private readonly intervals: () => Intervals) {}

  /** The next delay: a random point in [initial, min(max, initial·2^n)]. */
  next(): number {
    const { backoffInitialMs, backoffMaxMs } = this.intervals()
    const ceiling = Math.min(backoffMaxMs, backoffInitialMs * 2 ** this.failures)
    this.failures = Math.min(this.failures + 1, 30)
    return backoffInitialMs + Math.random() * Math.max(0, ceiling - backoffInitialMs)
  }

  reset(): void {
    this.failures = 0
  }
}

/** `ms` ± `fraction`·`ms`, so loops of a fleet started together drift apart. */
export function jittered(ms: number, fraction: number): number {
  return Math.max(0, ms + (Math.random() * 2 - 1) * fraction * ms)
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
