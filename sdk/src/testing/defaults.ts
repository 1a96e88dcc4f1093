// Defaults of the test harness, each with the reason for its value.
export const HARNESS_DEFAULTS = {
  /** A deadline far enough away that no test trips it, near enough to look real. */
  deadlineMs: 60_000,
  /** A `watch` loop must end in a test: after this many `ctx.sleep` calls `isStopping()` turns true. */
  maxSleeps: 100,
  /** Likewise, a `watch` that emits without sleeping stops after this many events. */
  maxEvents: 1000,
  /** And a `watch` that neither sleeps nor emits: `isStopping()` turns true on this call. */
  maxStoppingChecks: 10_000,
} as const
