// Fleet state: what orchestrator instances share that is not the truth. Presence (with
// TTLs, read by a sweeper), wake-ups for parked long-polls, and rate-limit counters.
// Everything here may be lost (Redis restarted) without losing work: the truth about
// agents, instructions and leases is always read from PostgreSQL.

export interface RateCount {
  /** Hits in the current window, this one included. */
  count: number
  /** Milliseconds until the window resets. */
  resetMs: number
}

export interface FleetState {
  readonly backend: 'redis' | 'memory'
  /** Marks an agent present for `ttlMs` from now (each heartbeat or poll renews it). */
  touch(agentId: string, ttlMs: number): Promise<void>
  /** Drops an agent's presence (revoked, or left gracefully). */
  forget(agentId: string): Promise<void>
  /**
   * Claims up to `limit` agents whose presence expired and removes them: across all
   * instances each expired agent is returned to exactly one caller (the sweeper).
   */
  sweepExpired(limit: number): Promise<string[]>
  /** Agents present now. */
  countPresent(): Promise<number>
  /** Wakes every subscriber of `channel`, on every instance. Never throws: a lost wake-up only delays work until the next re-check. */
  publish(channel: string, message: string): Promise<void>
  /** Calls `handler` for each message on `channel`; resolves to an unsubscribe function. */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>
  /** Counts a hit against `key` in a fixed window of `windowMs`. */
  hit(key: string, windowMs: number): Promise<RateCount>
  /** Counts one hit against each key (same window) in one round trip; answers in order. */
  hitMany(keys: readonly string[], windowMs: number): Promise<RateCount[]>
  /** False while the shared store is unreachable; the orchestrator then polls PostgreSQL more often. */
  healthy(): boolean
  /**
   * Changes whenever messages published meanwhile may not have arrived here (the
   * subscriber's connection dropped, or came back and is subscribing again): what this
   * instance concluded from the silence of a channel before then no longer holds.
   */
  epoch(): number
  close(): Promise<void>
}
