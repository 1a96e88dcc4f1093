// The engine's intervals and limits, each with the reason for its value.

export const ENGINE_POLICY = {
  /** How often the reconcile pass looks for work hooks missed (crashes): rare, so seconds are fine, and it costs a few queries. */
  reconcileIntervalMs: 5_000,
  /** A running run with nothing in flight for this long is advanced by the reconcile pass (shorter would race a live start). */
  stalledAfterMs: 2_000,
  /** How often the debounce and schedule workers ask pg-boss for due jobs: a window closes at most this late. */
  workerPollSeconds: 1,
  /** Workflow definitions kept in memory (saved versions never change, so the cache is never stale). */
  definitionCache: 1_000,
} as const
