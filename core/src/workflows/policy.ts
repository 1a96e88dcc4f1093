// Limits and defaults of workflow documents, each with the reason for its value.

export const WORKFLOW_POLICY = {
  /** Largest document accepted: a workflow is configuration, not data. */
  maxDocumentBytes: 262_144,
  /** YAML aliases expanded at most this often: refuses "billion laughs" documents. */
  maxAliasCount: 100,
  /** Steps per workflow: longer chains belong in several workflows. */
  maxActions: 50,
  maxOutputs: 20,
  /** Most issues reported for one document: enough to fix a batch, not a flood. */
  maxIssues: 100,
  /** Agent pool a step runs in when it names none. */
  defaultPool: 'default',
  /** A step that does not say otherwise gets 5 minutes: long enough for a restart, short enough to notice a hang. */
  defaultTimeoutMs: 300_000,
  /** No step holds an agent for more than a day. */
  maxTimeoutMs: 86_400_000,
  /** Same as the orchestrator's instruction default: retries are safe because steps get idempotency keys. */
  defaultRetryLimit: 3,
  maxRetryLimit: 20,
  defaultRetryDelayMs: 1_000,
  /** A sensor polled without an interval is polled every minute. */
  defaultSensorIntervalMs: 60_000,
  /** Faster polling than once a second is a watch, not an interval. */
  minSensorIntervalMs: 1_000,
  /** Longest debounce/throttle window: a day. */
  maxWindowMs: 86_400_000,
  /** Most runs of one workflow at once. */
  maxConcurrency: 1_000,
} as const
