import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import type { FleetState } from '../src/fleet/fleet-state.ts'
import { MemoryFleet } from '../src/fleet/memory-fleet.ts'
import { RedisFleet } from '../src/fleet/redis-fleet.ts'
import { ownRedis } from './helpers/redis-server.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

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
      const prefix = `test:${randomBytes(5).toString('hex')}:`
      const a = await RedisFleet.connect({ url: redisUrl, prefix })
      const b = await RedisFleet.connect({ url: redisUrl, prefix })
      return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) }
    },
  })
}

for (const factory of factories) {
  describe(`fleet state (${factory.name})`, () => {
    it('expires presence after its TTL and hands each expired agent to one sweeper', async () => {
      const { a, b, close } = await factory.make()
      await a.touch('agent-1', 150)
      await b.touch('agent-2', 150)
      await a.touch('agent-3', 60_000)
      expect(await b.countPresent()).toBe(3)
      expect(await a.sweepExpired(10)).toEqual([])
      await sleep(250)
      expect(await a.countPresent()).toBe(1)
      const [x, y] = await Promise.all([a.sweepExpired(10), b.sweepExpired(10)])
      expect([...x, ...y].sort()).toEqual(['agent-1', 'agent-2'])
      expect(await a.sweepExpired(10)).toEqual([])
      await a.forget('agent-3')
      expect(await b.countPresent()).toBe(0)
      await close()
    })

    it('renews presence on touch', async () => {
      const { a, close } = await factory.make()
      await a.touch('agent', 200)
      await sleep(120)
      await a.touch('agent', 60_000)
      await sleep(150)
      expect(await a.sweepExpired(10)).toEqual([])
      expect(await a.countPresent()).toBe(1)
      await close()
    })

    it('delivers a wake-up published on one instance to subscribers on the other', async () => {
      const { a, b, close } = await factory.make()
      const got: string[] = []
      const off = await b.subscribe('queue-1', (m) => got.push(m))
      const other: string[] = []
      const offOther = await b.subscribe('queue-2', (m) => other.push(m))
      await a.publish('queue-1', 'hello')
      for (let i = 0; i < 50 && got.length === 0; i++) await sleep(20)
      expect(got).toEqual(['hello'])
      expect(other).toEqual([])
      await off()
      await a.publish('queue-1', 'after')
      await sleep(100)
      expect(got).toEqual(['hello'])
      await offOther()
      await close()
    })

    it('counts hits per key in a fixed window', async () => {
      const { a, b, close } = await factory.make()
      expect((await a.hit('ip:1', 300)).count).toBe(1)
      expect((await b.hit('ip:1', 300)).count).toBe(2)
      const third = await a.hit('ip:1', 300)
      expect(third.count).toBe(3)
      expect(third.resetMs).toBeGreaterThan(0)
      expect(third.resetMs).toBeLessThanOrEqual(300)
      expect((await a.hit('ip:2', 300)).count).toBe(1)
      const [ip1, ip3] = await b.hitMany(['ip:1', 'ip:3'], 300)
      expect([ip1!.count, ip3!.count]).toEqual([4, 1])
      await sleep(400)
      expect((await a.hit('ip:1', 300)).count).toBe(1)
      await close()
    })
  })
}

describe('Redis fleet when Redis stops', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const c of cleanups) await c()
  })

  it('keeps answering (degraded), says so, and recovers when Redis is back', async () => {
    const redis = await ownRedis()
    cleanups.push(() => redis.stop())
    const fleet = await RedisFleet.connect({ url: redis.url, prefix: 'x:' })
    cleanups.push(() => fleet.close())
    expect(fleet.healthy()).toBe(true)
    const got: string[] = []
    await fleet.subscribe('q', (m) => got.push(m))

    await redis.stop()
    for (let i = 0; i < 50 && fleet.healthy(); i++) await sleep(20)
    expect(fleet.healthy()).toBe(false)
    // Wake-ups still reach this instance's own parked polls; counters still count.
    await fleet.publish('q', 'local')
    expect(got).toEqual(['local'])
    expect((await fleet.hit('k', 10_000)).count).toBe(1)
    expect((await fleet.hit('k', 10_000)).count).toBe(2)
    await fleet.touch('agent', 1_000)
    expect(await fleet.sweepExpired(10)).toEqual([])

    await redis.start()
    for (let i = 0; i < 100 && !fleet.healthy(); i++) await sleep(50)
    expect(fleet.healthy()).toBe(true)
    // The subscription came back with the connection.
    await fleet.publish('q', 'remote')
    for (let i = 0; i < 50 && got.length < 2; i++) await sleep(20)
    expect(got).toEqual(['local', 'remote'])
  })
})
