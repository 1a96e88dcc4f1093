import { describe, expect, it } from 'vitest'
import { MemoryFleet } from '../fleet/memory-fleet.ts'
import { announceAgentChanged, announceAgentRevoked } from '../fleet/revocations.ts'
import type { Agent } from '../types.ts'
import { CredentialCache } from './credential-cache.ts'

// What an instance remembers of agent credentials: for a moment, never past an
// announcement from any instance, never a revoked agent, nothing while announcements may be
// lost. Two caches on one fleet stand for two instances.

const agent = (id: string, over: Partial<Agent> = {}): Agent => ({
  id,
  orgId: 'org',
  name: id,
  kind: 'action',
  pool: 'web',
  labels: {},
  version: null,
  status: 'online',
  drain: false,
  lastSeenAt: new Date(0),
  createdAt: new Date(0),
  ...over,
})

/** A fleet whose health and epoch the test sets: Redis reachable or not, reconnected or not. */
class SwitchableFleet extends MemoryFleet {
  up = true
  reconnects = 0
  override healthy(): boolean {
    return this.up
  }
  override epoch(): number {
    return this.reconnects
  }
}

async function cacheOn(fleet: MemoryFleet, ttlMs = 1_000, maxEntries = 100) {
  let now = 1_000_000
  const cache = new CredentialCache(fleet, { ttlMs, maxEntries, now: () => now })
  // Subscribed (announcements reach it) only once its subscriptions resolved.
  await new Promise((r) => setImmediate(r))
  return {
    cache,
    advance: (ms: number) => {
      now += ms
    },
  }
}

describe('CredentialCache', () => {
  it('answers a remembered lookup within its window, counted from when the lookup began', async () => {
    const { cache, advance } = await cacheOn(new MemoryFleet(), 1_000)
    const mark = cache.mark()
    advance(300)
    cache.set('h1', agent('a1'), mark)
    advance(699)
    expect(cache.get('h1')?.id).toBe('a1')
    advance(1)
    expect(cache.get('h1')).toBeUndefined()
    expect(cache.size).toBe(0)
  })

  it('forgets everything, and keeps no lookup in flight, when announcements may have been missed', async () => {
    const fleet = new SwitchableFleet()
    const { cache } = await cacheOn(fleet)
    cache.set('h1', agent('a1'), cache.mark())
    const inFlight = cache.mark()
    // The subscriber's connection dropped and came back between two requests: still healthy.
    fleet.reconnects++
    expect(cache.get('h1')).toBeUndefined()
    cache.set('h2', agent('a2'), inFlight)
    expect(cache.get('h2')).toBeUndefined()
    cache.set('h2', agent('a2'), cache.mark())
    expect(cache.get('h2')?.id).toBe('a2')
  })

  it('forgets an agent revoked, rotated or changed on any instance, and only that agent', async () => {
    const fleet = new MemoryFleet()
    const here = await cacheOn(fleet)
    const there = await cacheOn(fleet)
    for (const { cache } of [here, there]) {
      cache.set('h1', agent('a1'), cache.mark())
      cache.set('h1-old', agent('a1'), cache.mark())
      cache.set('h2', agent('a2'), cache.mark())
      cache.set('h3', agent('a3'), cache.mark())
    }
    await announceAgentRevoked(fleet, 'a1')
    await announceAgentChanged(fleet, 'a2')
    for (const { cache } of [here, there]) {
      expect(cache.get('h1')).toBeUndefined()
      expect(cache.get('h1-old')).toBeUndefined()
      expect(cache.get('h2')).toBeUndefined()
      expect(cache.get('h3')?.id).toBe('a3')
    }
  })

  it('does not remember a lookup that began before an agent was forgotten', async () => {
    const fleet = new MemoryFleet()
    const { cache } = await cacheOn(fleet)
    // A lookup starts, the agent is revoked on some instance meanwhile, the lookup returns
    // the row as it read it before the revocation.
    const mark = cache.mark()
    await announceAgentRevoked(fleet, 'a1')
    cache.set('h1', agent('a1'), mark)
    expect(cache.get('h1')).toBeUndefined()
    // A lookup begun after it is remembered.
    cache.set('h1', agent('a1'), cache.mark())
    expect(cache.get('h1')?.id).toBe('a1')
  })

  it('never remembers a revoked agent', async () => {
    const { cache } = await cacheOn(new MemoryFleet())
    cache.set('h1', agent('a1', { status: 'revoked' }), cache.mark())
    expect(cache.get('h1')).toBeUndefined()
    expect(cache.size).toBe(0)
  })

  it('remembers nothing, and drops what it had, while announcements may be lost', async () => {
    const fleet = new SwitchableFleet()
    const { cache } = await cacheOn(fleet)
    cache.set('h1', agent('a1'), cache.mark())
    fleet.up = false
    expect(cache.get('h1')).toBeUndefined()
    cache.set('h2', agent('a2'), cache.mark())
    expect(cache.size).toBe(0)
    // Back up: what was dropped stays dropped (an announcement may have been missed meanwhile).
    fleet.up = true
    expect(cache.get('h1')).toBeUndefined()
    cache.set('h2', agent('a2'), cache.mark())
    expect(cache.get('h2')?.id).toBe('a2')
  })

  it('remembers nothing before its subscriptions are in place', () => {
    const cache = new CredentialCache(new MemoryFleet(), { ttlMs: 1_000, maxEntries: 10 })
    cache.set('h1', agent('a1'), cache.mark())
    expect(cache.get('h1')).toBeUndefined()
  })

  it('keeps at most maxEntries, dropping the oldest first', async () => {
    const { cache } = await cacheOn(new MemoryFleet(), 1_000, 3)
    for (const n of [1, 2, 3, 4]) cache.set(`h${n}`, agent(`a${n}`), cache.mark())
    expect(cache.size).toBe(3)
    expect(cache.get('h1')).toBeUndefined()
    expect(cache.get('h4')?.id).toBe('a4')
    // Remembered again: the newest, not dropped next.
    cache.set('h2', agent('a2'), cache.mark())
    cache.set('h5', agent('a5'), cache.mark())
    expect(cache.get('h2')?.id).toBe('a2')
    expect(cache.get('h3')).toBeUndefined()
  })

  it('is off with a window of 0', async () => {
    const { cache } = await cacheOn(new MemoryFleet(), 0)
    cache.set('h1', agent('a1'), cache.mark())
    expect(cache.get('h1')).toBeUndefined()
  })

  it('stops listening when closed', async () => {
    const fleet = new MemoryFleet()
    const { cache } = await cacheOn(fleet)
    cache.set('h1', agent('a1'), cache.mark())
    await cache.close()
    expect(cache.get('h1')).toBeUndefined()
    cache.set('h1', agent('a1'), cache.mark())
    expect(cache.size).toBe(0)
  })
})
