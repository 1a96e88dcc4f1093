import { Redis, type RedisOptions } from 'ioredis'
import { DEFAULTS } from '../defaults.ts'
import type { FleetState, RateCount } from './fleet-state.ts'
import { MemoryFleet } from './memory-fleet.ts'

// Fleet state in Redis, shared by every orchestrator instance. Redis only wakes and counts:
// when it is unreachable each call degrades instead of failing — wake-ups are delivered to
// this process only, rate limits are counted in-process, presence is skipped (the sweeper
// then relies on PostgreSQL's last-seen times) — and healthy() says so.

// Presence is a sorted set scored by expiry time; the server's clock decides, so instances
// with skewed clocks agree.
const TOUCH = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1`

// Read and remove in one script: two sweepers never claim the same expired agent.
const SWEEP = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
if #ids > 0 then redis.call('ZREM', KEYS[1], unpack(ids)) end
return ids`

const COUNT = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')`

// One or more counters per call (a request counts against its address and its credential
// in one round trip); answers count and remaining window for each key, flattened.
const HIT = `
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then redis.call('PEXPIRE', key, ARGV[1]); ttl = tonumber(ARGV[1]) end
  out[#out + 1] = n
  out[#out + 1] = ttl
end
return out`

export interface RedisFleetOptions {
  url: string
  prefix?: string
  /** How long start waits for Redis before carrying on degraded. */
  connectTimeoutMs?: number
}

type ScriptedRedis = Redis & {
  stavilyTouch(key: string, id: string, ttl: number): Promise<number>
  stavilySweep(key: string, limit: number): Promise<string[]>
  stavilyCount(key: string): Promise<number>
  stavilyHit(...args: (string | number)[]): Promise<number[]>
}

export class RedisFleet implements FleetState {
  readonly backend = 'redis' as const
  readonly #prefix: string
  readonly #cmd: ScriptedRedis
  readonly #sub: Redis
  readonly #local = new MemoryFleet()
  readonly #subscribed = new Map<string, number>()
  #closed = false
  #epoch = 0

  private constructor(opts: RedisFleetOptions) {
    this.#prefix = opts.prefix ?? DEFAULTS.redisPrefix
    const base: RedisOptions = {
      // Fail fast while disconnected instead of queueing: callers degrade at once.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: DEFAULTS.redisCommandTimeoutMs,
      // Keep trying to come back, but not in a tight loop.
      retryStrategy: (times) => Math.min(100 * times, 2_000),
      lazyConnect: true,
    }
    this.#cmd = new Redis(opts.url, base) as ScriptedRedis
    // The subscriber may queue its SUBSCRIBE commands until it is connected again:
    // ioredis re-subscribes every channel after a reconnect.
    this.#sub = new Redis(opts.url, { ...base, enableOfflineQueue: true, commandTimeout: undefined })
    for (const c of [this.#cmd, this.#sub]) c.on('error', () => {})
    this.#cmd.defineCommand('stavilyTouch', { numberOfKeys: 1, lua: TOUCH })
    this.#cmd.defineCommand('stavilySweep', { numberOfKeys: 1, lua: SWEEP })
    this.#cmd.defineCommand('stavilyCount', { numberOfKeys: 1, lua: COUNT })
    this.#cmd.defineCommand('stavilyHit', { lua: HIT })
    // Messages published while the subscriber was away are lost: each drop moves the epoch,
    // and so does each return, once every channel is subscribed again (a SUBSCRIBE sent
    // while it was away may have failed; ioredis re-sends only the ones that succeeded).
    this.#sub.on('close', () => this.#epoch++)
    this.#sub.on('ready', () => {
      this.#epoch++
      const channels = [...this.#subscribed.keys()].map((c) => this.#key(`wake:${c}`))
      const resubscribed = channels.length > 0 ? this.#sub.subscribe(...channels) : Promise.resolve()
      void resubscribed.then(
        () => this.#epoch++,
        () => this.#epoch++,
      )
    })
    this.#sub.on('message', (channel: string, message: string) => {
      this.#local.deliver(channel.slice(this.#prefix.length + 5), message)
    })
  }

  static async connect(opts: RedisFleetOptions): Promise<RedisFleet> {
    const fleet = new RedisFleet(opts)
    const wait = (r: Redis) =>
      Promise.race([
        r.connect().catch(() => {}),
        new Promise((resolve) => setTimeout(resolve, opts.connectTimeoutMs ?? 2_000).unref()),
      ])
    await Promise.all([wait(fleet.#cmd), wait(fleet.#sub)])
    return fleet
  }

  #key(name: string): string {
    return `${this.#prefix}${name}`
  }

  epoch(): number {
    return this.#epoch
  }

  healthy(): boolean {
    return !this.#closed && this.#cmd.status === 'ready' && this.#sub.status === 'ready'
  }

  async touch(agentId: string, ttlMs: number): Promise<void> {
    await this.#cmd.stavilyTouch(this.#key('presence'), agentId, ttlMs).catch(() => {})
  }

  async forget(agentId: string): Promise<void> {
    await this.#cmd.zrem(this.#key('presence'), agentId).catch(() => {})
  }

  async sweepExpired(limit: number): Promise<string[]> {
    return this.#cmd.stavilySweep(this.#key('presence'), limit).catch(() => [])
  }

  async countPresent(): Promise<number> {
    return this.#cmd.stavilyCount(this.#key('presence')).catch(() => this.#local.countPresent())
  }

  async publish(channel: string, message: string): Promise<void> {
    try {
      if (!this.healthy()) throw new Error('redis unavailable')
      await this.#cmd.publish(this.#key(`wake:${channel}`), message)
    } catch {
      // Redis is down: at least the polls parked on this instance wake at once.
      this.#local.deliver(channel, message)
    }
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    const unsubscribe = await this.#local.subscribe(channel, handler)
    const n = this.#subscribed.get(channel) ?? 0
    this.#subscribed.set(channel, n + 1)
    if (n === 0) await this.#sub.subscribe(this.#key(`wake:${channel}`)).catch(() => {})
    return async () => {
      await unsubscribe()
      const left = (this.#subscribed.get(channel) ?? 1) - 1
      if (left > 0) {
        this.#subscribed.set(channel, left)
        return
      }
      this.#subscribed.delete(channel)
      if (!this.#closed) await this.#sub.unsubscribe(this.#key(`wake:${channel}`)).catch(() => {})
    }
  }

  async hit(key: string, windowMs: number): Promise<RateCount> {
    return (await this.hitMany([key], windowMs))[0]!
  }

  async hitMany(keys: readonly string[], windowMs: number): Promise<RateCount[]> {
    try {
      const flat = await this.#cmd.stavilyHit(keys.length, ...keys.map((k) => this.#key(`rl:${k}`)), windowMs)
      return keys.map((_, i) => ({ count: flat[2 * i]!, resetMs: flat[2 * i + 1]! }))
    } catch {
      // Redis is down: count in this process (limits then hold per instance).
      return keys.map((k) => this.#local.hitSync(k, windowMs))
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#local.close()
    this.#cmd.disconnect()
    this.#sub.disconnect()
  }
}
