import type { FleetState, RateCount } from './fleet-state.ts'

// The in-process fleet state of the embedded default (one instance, no Redis). The same
// test suite as the Redis implementation runs against it.

export class MemoryFleet implements FleetState {
  readonly backend = 'memory' as const
  readonly #presence = new Map<string, number>()
  readonly #channels = new Map<string, Set<(message: string) => void>>()
  readonly #counters = new Map<string, { count: number; resetAt: number }>()
  #lastPrune = 0

  async touch(agentId: string, ttlMs: number): Promise<void> {
    this.#presence.set(agentId, Date.now() + ttlMs)
  }

  async forget(agentId: string): Promise<void> {
    this.#presence.delete(agentId)
  }

  async sweepExpired(limit: number): Promise<string[]> {
    const now = Date.now()
    const out: string[] = []
    for (const [id, until] of this.#presence) {
      if (out.length >= limit) break
      if (until <= now) {
        this.#presence.delete(id)
        out.push(id)
      }
    }
    return out
  }

  async countPresent(): Promise<number> {
    const now = Date.now()
    let n = 0
    for (const until of this.#presence.values()) if (until > now) n++
    return n
  }

  async publish(channel: string, message: string): Promise<void> {
    this.deliver(channel, message)
  }

  /** Delivers to this process's subscribers only (also the Redis fleet's fallback). */
  deliver(channel: string, message: string): void {
    const handlers = this.#channels.get(channel)
    if (!handlers) return
    for (const h of [...handlers]) h(message)
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    const set = this.#channels.get(channel) ?? new Set()
    this.#channels.set(channel, set)
    set.add(handler)
    return async () => {
      set.delete(handler)
      if (set.size === 0 && this.#channels.get(channel) === set) this.#channels.delete(channel)
    }
  }

  async hit(key: string, windowMs: number): Promise<RateCount> {
    return this.hitSync(key, windowMs)
  }

  async hitMany(keys: readonly string[], windowMs: number): Promise<RateCount[]> {
    return keys.map((k) => this.hitSync(k, windowMs))
  }

  hitSync(key: string, windowMs: number): RateCount {
    const now = Date.now()
    this.#prune(now)
    let c = this.#counters.get(key)
    if (!c || c.resetAt <= now) {
      c = { count: 0, resetAt: now + windowMs }
      this.#counters.set(key, c)
    }
    c.count++
    return { count: c.count, resetMs: c.resetAt - now }
  }

  // Expired windows are dropped now and then so counters for one-off IPs do not pile up.
  #prune(now: number): void {
    if (now - this.#lastPrune < 10_000) return
    this.#lastPrune = now
    for (const [k, c] of this.#counters) if (c.resetAt <= now) this.#counters.delete(k)
  }

  healthy(): boolean {
    return true
  }

  /** In-process delivery misses nothing. */
  epoch(): number {
    return 0
  }

  async close(): Promise<void> {
    this.#channels.clear()
  }
}
