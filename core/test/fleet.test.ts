import { afterAll, describe, expect, it } from 'vitest'
import type { FleetState } from '../src/fleet/fleet-state.ts'
import { MemoryFleet } from '../src/fleet/memory-fleet.ts'
import { RedisFleet } from '../src/fleet/redis-fleet.ts'
import { uniqueSchema } from './helpers/backends.ts'
import { deleteRedisKeys, redisPrefix, until } from './helpers/harness.ts'
import { ownRedis } from './helpers/redis-server.ts'

// No test here depends on how fast the machine is: what must not have expired yet has a TTL
// of minutes, what must have expired is waited for (polled to a deadline), and "not
// delivered" is shown by a later message on the same connection arriving alone.

const LONG = 600_000

interface Pair {
  a: FleetState
  b: FleetState
  close(): Promise<void>
}

// Two "instances" sharing fleet state: two Redis connections with one prefix, or the one
// in-process object seen twice.
const factories: { name: string; make(): Promise<Pair> }[] = [
  {
    name: 'memory',
    async make() {
      const f = new MemoryFleet()
      return { a: f, b: f, close: () => f.close() }
    },
  },
]
const redisUrl = process.env.REDIS_URL
if (redisUrl) {
  factories.push({
    name: 'redis',
    async make() {
      const prefix = redisPrefix(uniqueSchema('fleet'))
      const a = await RedisFleet.connect({ url: redisUrl, prefix })
      const b = await RedisFleet.connect({ url: redisUrl, prefix })
      return {
        a,
        b,
        close: async () => {
          await Promise.all([a.close(), b.close()])
          // Presence is a sorted set without a TTL: nothing else would remove it.
          await deleteRedisKeys(redisUrl, prefix)
        },
      }
    },
  })
}

for (const factory of factories) {
  describe(`fleet state (${factory.name})`, () => {
    const open: Pair[] = []
    const make = async () => {
      const p = await factory.make()
      open.push(p)
      return p
    }
    afterAll(async () => {
      for (const p of open.splice(0)) await p.close()
    })

    it('expires presence after its TTL and hands each expired agent to one sweeper', async () => {
      const { a, b } = await make()
      await a.touch('agent-1', 50)
      await b.touch('agent-2', 50)
      await a.touch('agent-3', LONG)
      // Wait until both short ones have expired, however long that takes here.
      await until(async () => (await b.countPresent()) === 1, 10_000, 'two presences expired')
      const [x, y] = await Promise.all([a.sweepExpired(10), b.sweepExpired(10)])
      expect([...x, ...y].sort()).toEqual(['agent-1', 'agent-2'])
      expect(await a.sweepExpired(10)).toEqual([])
      expect(await a.countPresent()).toBe(1)
      await a.forget('agent-3')
      expect(await b.countPresent()).toBe(0)
    })

    it('sweeps nobody whose TTL has not run out, and counts them present', async () => {
      const { a, b } = await make()
      await a.touch('agent-1', LONG)
      await b.touch('agent-2', LONG)
      expect(await b.countPresent()).toBe(2)
      expect(await a.sweepExpired(10)).toEqual([])
      expect(await b.sweepExpired(10)).toEqual([])
    })

    it('renews presence on touch, even one already past its TTL but not yet swept', async () => {
      const { a } = await make()
      await a.touch('agent', 1)
      await until(async () => (await a.countPresent()) === 0, 10_000, 'presence expired')
      await a.touch('agent', LONG)
      expect(await a.sweepExpired(10)).toEqual([])
      expect(await a.countPresent()).toBe(1)
    })

    it('delivers a wake-up published on one instance to subscribers on the other', async () => {
      const { a, b } = await make()
      const got: string[] = []
      const off = await b.subscribe('queue-1', (m) => got.push(m))
      const other: string[] = []
      const offOther = await b.subscribe('queue-2', (m) => other.push(m))
      await a.publish('queue-1', 'hello')
      await until(async () => got.length > 0, 10_000, 'the wake-up')
      expect(got).toEqual(['hello'])
      expect(other).toEqual([])
      await off()
      await a.publish('queue-1', 'after')
      // Messages on one connection arrive in order: once the marker is in, 'after' would be too.
      await a.publish('queue-2', 'marker')
      await until(async () => other.length > 0, 10_000, 'the marker')
      expect(other).toEqual(['marker'])
      expect(got).toEqual(['hello'])
      await offOther()
    })

    it('counts hits per key in a fixed window', async () => {
      const { a, b } = await make()
      expect((await a.hit('ip:1', LONG)).count).toBe(1)
      expect((await b.hit('ip:1', LONG)).count).toBe(2)
      const third = await a.hit('ip:1', LONG)
      expect(third.count).toBe(3)
      expect(third.resetMs).toBeGreaterThan(0)
      expect(third.resetMs).toBeLessThanOrEqual(LONG)
      expect((await a.hit('ip:2', LONG)).count).toBe(1)
      const [ip1, ip3] = await b.hitMany(['ip:1', 'ip:3'], LONG)
      expect([ip1!.count, ip3!.count]).toEqual([4, 1])
    })

    it('starts a new window once the old one ends', async () => {
      const { a } = await make()
      expect((await a.hit('ip:1', 50)).count).toBe(1)
      // Hits go on until one lands in a fresh window (counted 1 again), however slow they are.
      const fresh = await until(
        async () => ((await a.hit('ip:1', 50)).count === 1 ? true : undefined),
        10_000,
        'a new window',
      )
      expect(fresh).toBe(true)
    })
  })
}

describe('Redis fleet when Redis stops', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c()
  })

  it('keeps answering (degraded), says so, and recovers when Redis is back', async () => {
    const redis = await ownRedis()
    cleanups.push(() => redis.close())
    const fleet = await RedisFleet.connect({ url: redis.url, prefix: 'x:' })
    cleanups.push(() => fleet.close())
    expect(fleet.healthy()).toBe(true)
    const got: string[] = []
    await fleet.subscribe('q', (m) => got.push(m))

    await redis.stop()
    await until(async () => !fleet.healthy(), 10_000, 'fleet notices Redis is gone')
    // Wake-ups still reach this instance's own parked polls; counters still count.
    await fleet.publish('q', 'local')
    expect(got).toEqual(['local'])
    expect((await fleet.hit('k', LONG)).count).toBe(1)
    expect((await fleet.hit('k', LONG)).count).toBe(2)
    await fleet.touch('agent', 1_000)
    expect(await fleet.sweepExpired(10)).toEqual([])

    await redis.start()
    await until(async () => fleet.healthy(), 20_000, 'fleet back on Redis')
    // The subscription came back with the connection.
    await fleet.publish('q', 'remote')
    await until(async () => got.length >= 2, 10_000, 'the wake-up through Redis')
    expect(got).toEqual(['local', 'remote'])
  })
})
