// Limits and intervals of the operator API, each with the reason for its value.

export const API_POLICY = {
  /** SSE comment lines keep idle streams open through proxies that cut silent connections (often at 30–60 s). */
  streamHeartbeatMs: 15_000,
  /** What an EventSource waits before reconnecting after the stream ends (sent as `retry:`). */
  streamRetryMs: 3_000,
  /** Open streams per instance: each holds a socket and a subscription; beyond this a client gets 503. */
  maxStreams: 1_000,
  /** How much longer than the longest held poll a silent socket may live before it is closed. */
  socketIdleMarginMs: 10_000,
  /** How often Node checks request and header deadlines: a slow client is cut within this of its deadline. */
  connectionsCheckingIntervalMs: 1_000,
  /** Bytes a stream may have waiting for a client that does not read; beyond it the stream ends (the client reconnects and reads the state from the API). */
  streamBufferBytes: 1_048_576,
  /** Log lines per step in GET /runs/:id: one attempt's worth (the agent API's per-result cap), so the newest attempt shows whole. */
  runLogLinesPerStep: 2_000,
  /** Bytes of log lines (as JSON) per step in GET /runs/:id: one attempt's worth, as above. */
  runLogBytesPerStep: 262_144,
  /** Bytes of log lines of a whole run in GET /runs/:id, shared by its steps: one answer stays a few MB at most, however many steps and retries. */
  runLogBytes: 2_097_152,
  /** Largest webhook body: webhooks carry events, not files. */
  webhookBodyLimitBytes: 1_048_576,
} as const
