import { afterAll, describe, expect, it } from 'vitest'
import { RedisFleet } from '../src/fleet/redis-fleet.ts'
import { until } from './helpers/harness.ts'
import { ownRedis } from './helpers/redis-server.ts'

// The Redis fleet across a subscriber that drops and comes back: a channel subscribed while
// Redis was away is subscribed once it is back, and the epoch moves on every drop and return,
// so what an instance concluded from a channel's silence (a drained queue, a remembered
// credential) is not trusted across the gap. Runs its own Redis server (it stops it).

describe('Redis fleet reconnecting', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c()
  })

  it('subscribes a channel asked for while Redis was away once it is back, and moves its epoch', async () => {
    const redis = await ownRedis()
    cleanups.push(() => redis.close())
    const fleet = await RedisFleet.connect({ url: redis.url, prefix: 'late:' })
    cleanups.push(() => fleet.close())
    const other = await RedisFleet.connect({ url: redis.url, prefix: 'late:' })
    cleanups.push(() => other.close())
    await until(async () => fleet.healthy() && other.healthy(), 10_000, 'both connected')
    const before = fleet.epoch()

    await redis.stop()
    await until(async () => !fleet.healthy(), 10_000, 'fleet notices Redis is gone')
    expect(fleet.epoch()).toBeGreaterThan(before)
    const got: string[] = []
    await fleet.subscribe('late', (m) => got.push(m))

    await redis.start()
    await until(async () => fleet.healthy() && other.healthy(), 20_000, 'both back on Redis')
    const back = fleet.epoch()
    // Published by another instance: only a subscription made after the return can hear it.
    await until(
      async () => {
        await other.publish('late', 'hello')
        return got.includes('hello')
      },
      10_000,
      'the late subscription hears another instance',
    )
    expect(fleet.epoch()).toBeGreaterThanOrEqual(back)
  })
})
