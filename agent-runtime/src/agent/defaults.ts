// Defaults of the agent process, each with the reason for its value. The orchestrator's
// intervals (poll wait, heartbeat, lease, backoff) always win over the fallbacks here.

export const AGENT_DEFAULTS = Object.freeze({
  /** Used until the first server answer: the protocol's documented defaults. */
  intervals: Object.freeze({
    pollWaitMs: 40_000,
    heartbeatMs: 15_000,
    leaseTtlMs: 30_000,
    backoffInitialMs: 500,
    backoffMaxMs: 30_000,
  }),
  /** The contract: re-read /plugins at least this often even without `pluginsChanged`. */
  pluginSyncMs: 60_000,
  /** Instructions run at once; a small agent box has few cores and the sandbox host is one process. */
  concurrency: 4,
  /** Jitter on every loop, as a fraction of its interval, so a fleet restarted together spreads out. */
  jitter: 0.1,
  /** Streamed events are sealed into one outbox entry per this many (each is on disk as it arrives)... */
  eventBatchMax: 200,
  /** ...or after this long (the batched fsync), so an event reaches the orchestrator within a second. */
  eventBatchDelayMs: 250,
  /** A request body stays this far under the orchestrator's limit: room for the envelope and headers' worth of slack. */
  bodyMarginBytes: 4_096,
  /** Results the sender has on their way at once (those not failing): a result is one round trip, and calls finish faster. */
  resultSendsAtOnce: 4,
  /** Consecutive failed sends (5xx, network) of one report before it is moved aside if later reports get through. */
  entryRetryLimit: 5,
  /** The outbox's size cap: past it new sensor events are dropped (counted, logged); results are always kept. */
  outboxMaxBytes: 256 * 1024 * 1024,
  /** Quarantined reports kept on disk for inspection; past this new ones are only logged, so a hostile server cannot fill the disk. */
  quarantineMaxFiles: 1_000,
  /** A full outbox logs dropped events at most this often, so the log is not a second flood. */
  droppedLogEveryMs: 60_000,
  /** A watch that ends (or fails) is restarted after this, doubling up to the backoff maximum. */
  watchRestartMs: 1_000,
  /** SIGTERM: how long in-flight calls may take to finish before they are handed back. */
  shutdownGraceMs: 30_000,
  /** After the grace period a call is asked to stop; one that has not stopped after this is handed back. */
  handBackAfterStopMs: 2_000,
  /** Extra time for the HTTP answer of a long-poll beyond the wait the server holds it. */
  pollSlackMs: 15_000,
  /** The pause (±100 %) after a poll answered with no work, so an immediate empty answer is not spun on. */
  emptyPollPauseMs: 50,
  /** Instructions one poll or result reply asks for at most (the orchestrator's poll batch, `pollMaxBatch`). */
  askMax: 10,
  /**
   * A finished call's slot is kept for its result's reply (which may carry the next work) this
   * long at most: a result stuck behind others in the outbox gives the slot back to the poll.
   */
  resultReplyHoldMs: 2_000,
  /** Timeout of every other request: the orchestrator answers within milliseconds when healthy. */
  requestTimeoutMs: 15_000,
  /** How long the agent uses one credential before it rotates it: a copied credential stops working within a month. */
  credentialLifetimeMs: 30 * 24 * 60 * 60 * 1000,
  /** Rotation starts this long before the lifetime ends, so an orchestrator down for a day does not make the agent late. */
  credentialRotateMarginMs: 24 * 60 * 60 * 1000,
  /** A cached plugin's registry metadata is reused without network while it has not expired. */
  registryPath: '/api/v1/registry',
})

export type Intervals = {
  pollWaitMs: number
  heartbeatMs: number
  leaseTtlMs: number
  backoffInitialMs: number
  backoffMaxMs: number
}
