// When to try again and how long to wait first: exponential backoff, or the server's own
// Retry-After (seconds or an HTTP date) when it sends one, within a cap.

export interface RetryPolicy {
  /** Attempts after the first. */
  limit: number
  delayMs: number
  maxDelayMs: number
  statuses: number[]
}

/** Milliseconds a Retry-After header asks for, or undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000
  const at = Date.parse(text)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - now)
}

/** The wait before attempt `attempt + 1` (attempt counts from 1). */
export function backoffMs(policy: RetryPolicy, attempt: number, retryAfter: number | undefined): number {
  const exponential = policy.delayMs * 2 ** (attempt - 1)
  return Math.min(policy.maxDelayMs, retryAfter ?? exponential)
}
