// Every limit, interval and default of the orchestrator, each with the reason for its value.
// Configuration may override most of them; nothing else in core hard-codes a number.

export const DEFAULTS = {
  /** Agents hold a poll this long before it is answered empty: long enough to be cheap, short enough for proxies that cut idle connections at 60 s. */
  pollWaitMs: 40_000,
  /** ± jitter on the held time so a fleet that started together does not re-poll together. */
  pollJitterMs: 10_000,
  /** Upper bound an agent may ask for (`?waitMs=`): stays under common 60 s idle timeouts. */
  pollWaitMaxMs: 50_000,
  /** Heartbeat period the server tells agents to use. */
  heartbeatMs: 15_000,
  /** Missing this many heartbeats marks an agent lost: tolerates one dropped beat and a slow network. */
  lostAfterMs: 45_000,
  /** After a restart, no agent is marked lost for this long: they need time to reconnect to a fresh instance. */
  restartGraceMs: 60_000,
  /** How often the sweeper looks for expired presence and expired leases. */
  sweepIntervalMs: 1_000,
  /** Lease an agent gets on pickup; renewed by `accept`. Short so a dead agent's work moves on quickly. */
  leaseTtlMs: 30_000,
  /** pg-boss's own expiry per attempt: the hard ceiling behind the renewable lease (see docs/orchestrator.md). */
  jobHardExpirySeconds: 3_600,
  /** Retries after the first attempt before an instruction is dead-lettered. */
  retryLimit: 3,
  /** First retry delay; pg-boss doubles it (with jitter) on each further retry. */
  retryDelaySeconds: 1,
  /** Agents reconnect with exponential backoff between these bounds (told to them at register). */
  agentBackoffInitialMs: 500,
  agentBackoffMaxMs: 30_000,
  /** How often parked polls re-read PostgreSQL when Redis wake-ups work: catches delayed retries. */
  recheckMs: 2_000,
  /** How often parked polls re-read PostgreSQL when Redis is down: the polling fallback. */
  recheckDegradedMs: 500,
  /** Most instructions one poll may take at once. */
  pollMaxBatch: 10,
  /** Parked polls per agent: a further poll ends the oldest (answered empty). The agent parks one; two cover a reconnect whose old socket the server has not yet seen close. */
  pollsPerAgent: 2,
  /** Request bodies above this are refused (413): results carry outputs and logs, not files. */
  bodyLimitBytes: 1_048_576,
  /** Enrollment tokens expire after a day unless the operator says otherwise. */
  enrollmentTtlSeconds: 86_400,
  /** The longest an enrollment token may live: a leaked one must not stay useful for long. */
  enrollmentTtlMaxSeconds: 30 * 86_400,
  /** Uses per enrollment token unless the operator says otherwise. */
  enrollmentUses: 1,
  /** An API token's last-used time is written at most this often per token and instance: a timestamp to the minute, not a write per request. */
  tokenLastUsedWriteMs: 60_000,
  /** Every this-many claims on a pool's queue takes the oldest work first instead of the highest priority, so low priorities never starve (queue/dispatcher.ts). */
  priorityFairEvery: 4,
  /** How long an instance remembers an agent credential's lookup: a busy agent authenticates several times a second; any change to the agent is announced and forgets it at once (services/credential-cache.ts). 0 reads PostgreSQL on every request. */
  agentAuthCacheMs: 1_000,
  /** Rate limit per agent credential: a busy agent polls and reports a few times per instruction. */
  rateLimitPerCredential: 1_200,
  /** Rate limit per client IP (all credentials behind one NAT share it). */
  rateLimitPerIp: 6_000,
  /** The window both rate limits count in. */
  rateLimitWindowMs: 60_000,
  /** Operator API requests per token per window: a dashboard or CLI makes a few per second at most. */
  operatorRateLimitPerToken: 1_200,
  /** Operator API requests per client address per window (everyone behind one proxy or NAT shares it). */
  operatorRateLimitPerIp: 6_000,
  /** Receiving one whole request (headers and body) may take this long: a client cannot trickle a body forever. The long-poll and the stream are GETs without a body, so this never cuts them. */
  requestTimeoutMs: 30_000,
  /** Receiving the headers of a request may take this long (slowloris); at most requestTimeoutMs. */
  headersTimeoutMs: 10_000,
  /** Live event streams open at once per organization on one instance: one organization cannot take every stream. */
  streamsPerOrg: 100,
  /** Live event streams open at once per API token on one instance: a leaked or looping client cannot take its organization's. */
  streamsPerToken: 10,
  /** Registration attempts per IP per window: enrollment tokens must not be guessable by brute force. */
  registerLimitPerIp: 30,
  /** Events per request: sensors batch, but one request must stay small. */
  eventsMaxBatch: 500,
  /** Graceful shutdown waits this long for in-flight requests before closing anyway. */
  shutdownTimeoutMs: 10_000,
  /** Redis commands fail fast when Redis is unreachable, so a request never waits on it. */
  redisCommandTimeoutMs: 500,
  /** PostgreSQL connections per instance: dispatch is short transactions, not long queries. */
  pgPoolSize: 20,
  /** Key prefix for everything Stavily writes to Redis. */
  redisPrefix: 'stavily:',
  /** PostgreSQL schema for Stavily's tables (pg-boss uses `<schema>_boss`). */
  schema: 'stavily',
  /** Data folder of the embedded default (PGlite). */
  dataDir: '.stavily',
  /** Default listening address: loopback until the operator decides to expose it. */
  host: '127.0.0.1',
  port: 8080,
} as const

export type Defaults = typeof DEFAULTS

/**
 * Fixed limits of the orchestrator (not configuration): sizes of names and fields that the
 * HTTP schemas and the programmatic checks both apply, and batch sizes of internal loops.
 */
export const LIMITS = {
  /** An organization's name: shown in lists and the CLI, not a document. */
  organizationNameMax: 100,
  /** An API or enrollment token's name. */
  tokenNameMax: 100,
  /** An agent's name (host names with a suffix fit). */
  agentNameMax: 200,
  /** npm's own limit on a package name, which a plugin name is. */
  pluginNameMax: 214,
  /** A semver range or exact version: ranges are short; this only bounds hostile input. */
  versionRangeMax: 256,
  /** Uses of one enrollment token: a fleet enrolled from one token, not an unbounded key. */
  enrollmentUsesMax: 10_000,
  /** The registry answers at most this many plugins per list call (its own page cap). */
  registryPageMax: 200,
  /** Tokens whose last use an instance remembers (to write it once a minute); past it the memory starts over. */
  tokenLastUsedCacheMax: 10_000,
  /** Expired presences taken per sweep: one sweep stays short; the next takes the rest. */
  presenceSweepBatch: 1_000,
  /** Agent credentials one instance remembers at once (the oldest go first): a fleet of this many agents each stays one lookup a second. */
  agentAuthCacheEntries: 10_000,
  /** Attempts of an organization delete that PostgreSQL ended as a deadlock victim (a writer locked in the other order). */
  deleteDeadlockRetries: 3,
  /** Audit outbox entries moved per drain step; a full step means more are waiting. */
  auditDrainBatch: 1_000,
  /**
   * A finished step's output rides on its live-stream event up to this size (JSON
   * characters), so a dashboard shows it without reading the run; past it the event says
   * `outputOmitted` and the run has it. The stream is best effort and shared by every client.
   */
  streamOutputMax: 16_384,
  /** Expired leases given up per sweep transaction; a full sweep means more are waiting. */
  leaseSweepBatch: 100,
  /** Attempts at creating a pool's pg-boss queue that lost a race with another instance (deadlock, duplicate). */
  queueCreateRetries: 5,
  /** The pause before the next of those attempts, times the attempt number. */
  queueCreateBackoffMs: 20,
  /** pg-boss refuses a job expiry of 24 hours or more. */
  jobExpiryMaxSeconds: 24 * 3_600 - 1,
  /** A job's pg-boss expiry is its step's timeout plus this, so pg-boss never cuts an attempt its step allows. */
  jobExpirySlackSeconds: 60,
} as const
