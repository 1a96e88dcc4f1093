// The engine's intervals and limits, each with the reason for its value.

export const ENGINE_POLICY = {
  /** How often the reconcile pass looks for work hooks missed (crashes): rare, so seconds are fine, and it costs a few queries. */
  reconcileIntervalMs: 5_000,
  /** A running run with nothing in flight for this long is advanced by the reconcile pass (shorter would race a live start). */
  stalledAfterMs: 2_000,
  /** How often the debounce and schedule workers ask pg-boss for due jobs: a window closes at most this late. */
  workerPollSeconds: 1,
  /** Finished instructions whose step a hook missed, applied per reconcile pass; the next pass takes the rest. */
  reconcileOutcomesBatch: 200,
  /** Stalled running runs advanced per pass: each is a locked transaction, so a pass stays short. */
  reconcileRunsBatch: 100,
  /** Workflows whose queued runs get a start per pass (each start fills every free slot of its workflow). */
  reconcileQueuedBatch: 50,
  /** Debounce windows past due closed per pass. */
  reconcileDebounceBatch: 100,
  /** Every this-many passes, schedules applied through another instance are synced here: about once a minute at reconcileIntervalMs. */
  scheduleSyncEvery: 12,
  /** Workflow definitions kept in memory (saved versions never change, so the cache is never stale). */
  definitionCache: 1_000,
} as const
