import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../../test/helpers/backends.ts'
import {
  type DispatchWorld,
  dbNow,
  enroll,
  jobOf,
  newOrg,
  openDispatchWorld,
  row,
  wakes,
} from '../../test/helpers/dispatch.ts'
import { hashSecret } from '../auth/secrets.ts'
import type { InstructionSpec } from '../types.ts'
import type { Claimed } from './dispatcher.ts'
import { txBossDb } from './pglite-boss-db.ts'
import { instructionQueue } from './queue-names.ts'

// Parked polls taking work, on a real database without HTTP: how a batch is spread over the
// polls, which polls are refused and why, what a pickup stores, the priority order and its
// fair turn, and work handed back from a poll that went away.

const spec = (over: Partial<InstructionSpec> = {}): InstructionSpec => ({
  kind: 'action',
  pool: 'default',
  plugin: 'shell',
  operation: 'run',
  ...over,
})

/** How many each poll got, by poll key. */
const counts = (c: Claimed) => [...c.got].map(([k, list]) => [k, list.length]).sort((x, y) => x[0]! - y[0]!)

/** What each poll got, as instruction ids by poll key (sorted: a batch is one pickup, in no order). */
const ids = (c: Claimed) =>
  Object.fromEntries([...c.got].map(([k, list]) => [k, list.map((i) => i.id).sort()]))

for (const backend of backends()) {
  describe(`dispatcher claims on ${backend.name}`, () => {
    let w: DispatchWorld
    beforeAll(async () => {
      w = await openDispatchWorld(backend)
    })
    afterAll(async () => {
      await w?.close()
      await backend.cleanup()
    })

    it('spreads a batch round-robin over the polls, each getting at most its max', async () => {
      const { d, metrics } = await w.dispatcher()
      const org = await newOrg(w)
      const [a, b, c] = [await enroll(w, org), await enroll(w, org), await enroll(w, org)]
      const queue = instructionQueue(org, 'action', 'default')
      const work: string[] = []
      for (let i = 0; i < 5; i++) work.push((await d.enqueue(org, spec({ input: { i } }))).id)
      const claimed = await d.claim(queue, [a.pick(1, 3), b.pick(2, 1), c.pick(3, 2)])
      // Round-robin: 2, 1, 2 (not the first poll's 3 first), each job to exactly one poll.
      expect(counts(claimed)).toEqual([
        [1, 2],
        [2, 1],
        [3, 2],
      ])
      expect(Object.values(ids(claimed)).flat().sort()).toEqual([...work].sort())
      for (const [key, agent] of [
        [1, a],
        [2, b],
        [3, c],
      ] as const)
        for (const i of claimed.got.get(key)!)
          expect(i).toMatchObject({ agentId: agent.agent.id, status: 'leased', attempt: 1 })
      // Fewer than the polls asked for: the queue is empty now.
      expect(claimed).toMatchObject({ more: false, drained: true })
      expect(claimed.refused.size).toBe(0)
      expect(metrics.dispatched).toBe(5)
      expect(metrics.pickupCount).toBe(5)
      const one = claimed.got.get(2)![0]!
      expect(one).toMatchObject({ input: { i: work.indexOf(one.id) } })
      expect(one).not.toHaveProperty('waitedSeconds')

      // Exactly as many as asked: more may be waiting.
      const more = [(await d.enqueue(org, spec())).id, (await d.enqueue(org, spec())).id]
      const full = await d.claim(queue, [a.pick(4, 1), b.pick(5, 1)])
      expect(counts(full)).toEqual([
        [4, 1],
        [5, 1],
      ])
      expect(Object.values(ids(full)).flat().sort()).toEqual(more.sort())
      expect(full).toMatchObject({ more: true, drained: false })
      expect(metrics.dispatched).toBe(7)

      const empty = await d.claim(queue, [a.pick(6, 2)])
      expect(empty).toEqual({ got: new Map(), refused: new Map(), more: false, drained: true })
      expect(await d.claim(queue, [])).toEqual({
        got: new Map(),
        refused: new Map(),
        more: false,
        drained: false,
      })
    })

    it('gives a poll asking for none nothing and fetches nothing when no poll asks', async () => {
      const { d, metrics } = await w.dispatcher()
      const org = await newOrg(w)
      const [a, b] = [await enroll(w, org), await enroll(w, org)]
      const queue = instructionQueue(org, 'action', 'default')
      const first = await d.enqueue(org, spec())
      const second = await d.enqueue(org, spec())
      expect(await d.claim(queue, [a.pick(1, 0)])).toEqual({
        got: new Map(),
        refused: new Map(),
        more: false,
        drained: false,
      })
      expect((await row(w, first.id)).status).toBe('queued')
      const claimed = await d.claim(queue, [a.pick(1, 0), b.pick(2, 1)])
      expect(ids(claimed)).toEqual({ 2: [first.id] })
      expect(claimed).toMatchObject({ more: true, drained: false })
      expect((await row(w, second.id)).status).toBe('queued')
      expect(metrics.dispatched).toBe(1)
    })

    it('records a pickup: leased to the agent for the lease time, attempt 1, its job active', async () => {
      const { d, hooks } = await w.dispatcher({ leaseTtlMs: 7_000 })
      const org = await newOrg(w)
      const a = await enroll(w, org)
      const inst = await d.enqueue(org, spec())
      const before = await dbNow(w)
      const got = (await d.claim(inst.queue, [a.pick(1, 1)])).got.get(1)![0]!
      expect(got).toMatchObject({ id: inst.id, status: 'leased', agentId: a.agent.id, attempt: 1 })
      const stored = await row(w, inst.id)
      expect(stored).toMatchObject({ status: 'leased', agentId: a.agent.id, attempt: 1 })
      expect(stored.leaseUntil!.getTime() - stored.pickedAt!.getTime()).toBe(7_000)
      expect(stored.pickedAt!.getTime()).toBeGreaterThanOrEqual(before)
      expect(stored.pickedAt!.getTime()).toBeLessThanOrEqual(await dbNow(w))
      expect(got.leaseUntil).toEqual(stored.leaseUntil)
      expect((await jobOf(w, inst.id))?.state).toBe('active')
      // Not a workflow step: the engine is not told.
      expect(hooks.calls).toEqual([])
    })

    it('tells the engine of the steps among the pickups, inside the claim', async () => {
      const { d, hooks } = await w.dispatcher()
      const org = await newOrg(w)
      const a = await enroll(w, org)
      const plain = await d.enqueue(org, spec())
      const step = await d.enqueue(org, spec({ runId: crypto.randomUUID(), stepId: 's1' }))
      const claimed = await d.claim(plain.queue, [a.pick(1, 5)])
      expect(ids(claimed)).toEqual({ 1: [plain.id, step.id].sort() })
      expect(hooks.calls).toEqual([{ hook: 'leased', ids: [step.id], statuses: ['leased'] }])
      expect(hooks.seenStatus).toEqual(['leased'])
    })

    it('refuses polls of revoked, rotated-away, draining and gone agents; the work waits for others', async () => {
      const { d, metrics } = await w.dispatcher()
      const org = await newOrg(w)
      const [revoked, rotated, draining, gone, fine] = [
        await enroll(w, org),
        await enroll(w, org),
        await enroll(w, org),
        await enroll(w, org),
        await enroll(w, org),
      ]
      await w.agents.revoke(org, revoked.agent.id)
      await w.agents.setDrain(org, draining.agent.id, true)
      const fresh = await w.agents.rotate(rotated.agent, rotated.credential)
      await w.db.sql.query('DELETE FROM agents WHERE id = $1', [gone.agent.id])
      const queue = instructionQueue(org, 'action', 'default')
      const work = [(await d.enqueue(org, spec())).id, (await d.enqueue(org, spec())).id]
      const picks = [revoked.pick(1, 1), rotated.pick(2, 1), draining.pick(3, 1), gone.pick(4, 1)]
      const expected = new Map([
        [1, 'revoked'],
        [2, 'rotated'],
        [3, 'draining'],
        [4, 'revoked'],
      ])
      const refused = await d.claim(queue, picks)
      expect(refused).toEqual({ got: new Map(), refused: expected, more: false, drained: false })
      expect(metrics.dispatched).toBe(0)
      expect(await d.refusedPolls([...picks, fine.pick(5, 1)])).toEqual(expected)
      expect(await d.refusedPolls([])).toEqual(new Map())

      // The rotated agent's new credential may lease; a refused poll beside it changes nothing.
      const renewed = { ...rotated.pick(6, 1), credentialHash: hashSecret(fresh).toString('hex') }
      const claimed = await d.claim(queue, [revoked.pick(7, 1), renewed, fine.pick(8, 1)])
      expect([...claimed.got.keys()].sort()).toEqual([6, 8])
      expect([...claimed.got.get(6)!, ...claimed.got.get(8)!].map((i) => i.id).sort()).toEqual(work.sort())
      expect(claimed.refused).toEqual(new Map([[7, 'revoked']]))
      expect(claimed).toMatchObject({ more: true, drained: false })
      expect(await row(w, claimed.got.get(6)![0]!.id)).toMatchObject({
        status: 'leased',
        agentId: rotated.agent.id,
      })
    })

    it('names the first reason of an agent refused for several', async () => {
      const { d } = await w.dispatcher()
      const org = await newOrg(w)
      const [a, b] = [await enroll(w, org), await enroll(w, org)]
      await w.agents.setDrain(org, a.agent.id, true)
      await w.agents.setDrain(org, b.agent.id, true)
      await w.agents.rotate(b.agent, b.credential)
      await w.agents.revoke(org, a.agent.id)
      await w.agents.revoke(org, b.agent.id)
      expect(await d.refusedPolls([a.pick(1, 1), b.pick(2, 1)])).toEqual(
        new Map([
          [1, 'revoked'],
          [2, 'revoked'],
        ]),
      )
      const c = await enroll(w, org)
      await w.agents.setDrain(org, c.agent.id, true)
      await w.agents.rotate(c.agent, c.credential)
      expect(await d.refusedPolls([c.pick(3, 1)])).toEqual(new Map([[3, 'rotated']]))
    })

    it('closes the job of an instruction that was cancelled meanwhile instead of handing it out', async () => {
      const { d, metrics } = await w.dispatcher()
      const org = await newOrg(w)
      const a = await enroll(w, org)
      const stale = await d.enqueue(org, spec())
      const live = await d.enqueue(org, spec())
      await w.db.sql.query(
        `UPDATE instructions SET status = 'cancelled', finished_at = now() WHERE id = $1`,
        [stale.id],
      )
      const claimed = await d.claim(stale.queue, [a.pick(1, 5)])
      expect(ids(claimed)).toEqual({ 1: [live.id] })
      expect((await jobOf(w, stale.id))?.state).toBe('cancelled')
      expect((await jobOf(w, live.id))?.state).toBe('active')
      expect(await row(w, stale.id)).toMatchObject({ status: 'cancelled', agentId: null })
      expect(metrics.dispatched).toBe(1)
    })

    it('takes over an instruction whose job pg-boss gave up while it was still held', async () => {
      const { d, metrics } = await w.dispatcher({ retryLimit: 2 })
      const org = await newOrg(w)
      const [a, b] = [await enroll(w, org), await enroll(w, org)]
      const inst = await d.enqueue(org, spec({ retryDelaySeconds: 0, retryBackoff: false }))
      await d.claim(inst.queue, [a.pick(1, 1)])
      // pg-boss's own expiry fails the active job: retried, while the row still says leased.
      await w.db.sql.transaction((tx) => w.boss.fail(inst.queue, inst.id, {}, { db: txBossDb(tx) }))
      const second = await d.claim(inst.queue, [b.pick(2, 1)])
      expect(second.got.get(2)![0]).toMatchObject({ id: inst.id, agentId: b.agent.id, attempt: 2 })
      // The same while running (renewed).
      await d.renew(b.agent, inst.id, 2)
      await w.db.sql.transaction((tx) => w.boss.fail(inst.queue, inst.id, {}, { db: txBossDb(tx) }))
      const third = await d.claim(inst.queue, [a.pick(3, 1)])
      expect(third.got.get(3)![0]).toMatchObject({ agentId: a.agent.id, attempt: 3, status: 'leased' })
      expect(metrics.dispatched).toBe(3)
      // Only first pickups are a pickup latency.
      expect(metrics.pickupCount).toBe(1)
    })

    it('serves higher priorities first and every priorityFairEvery-th claim the oldest work', async () => {
      const { d } = await w.dispatcher({ priorityFairEvery: 3 })
      const org = await newOrg(w)
      const a = await enroll(w, org)
      const queue = instructionQueue(org, 'action', 'default')
      const other = instructionQueue(org, 'action', 'other')
      // Claims that find nothing are not counted.
      await d.claim(queue, [a.pick(1, 1)])
      const low = (await d.enqueue(org, spec({ priority: -5 }))).id
      const high: string[] = []
      for (let i = 0; i < 4; i++) high.push((await d.enqueue(org, spec({ priority: 10 }))).id)
      const mid = (await d.enqueue(org, spec({ priority: 3 }))).id
      const otherWork = (await d.enqueue(org, spec({ pool: 'other' }))).id
      const order: string[] = []
      for (let i = 0; i < 6; i++) {
        order.push((await d.claim(queue, [a.pick(1, 1)])).got.get(1)![0]!.id)
        // Another pool's claims keep their own count.
        if (i === 0) await d.claim(other, [a.pick(2, 1)])
      }
      expect(order).toEqual([high[0], high[1], low, high[2], high[3], mid])
      expect((await row(w, otherWork)).status).toBe('leased')
    })

    it('takes the oldest work on every claim with priorityFairEvery 1, and rounds a fraction down', async () => {
      // [priorityFairEvery, what three claims take in turn]
      const cases: [number, ('low' | 'high' | 'higher')[]][] = [
        [1, ['low', 'high', 'higher']],
        [0.5, ['low', 'high', 'higher']],
        [2.7, ['higher', 'low', 'high']],
      ]
      for (const [every, expected] of cases) {
        const { d } = await w.dispatcher({ priorityFairEvery: every })
        const org = await newOrg(w)
        const a = await enroll(w, org)
        const queue = instructionQueue(org, 'action', 'default')
        const names = new Map<string, string>()
        names.set((await d.enqueue(org, spec({ priority: 0 }))).id, 'low')
        names.set((await d.enqueue(org, spec({ priority: 5 }))).id, 'high')
        names.set((await d.enqueue(org, spec({ priority: 9 }))).id, 'higher')
        const taken: string[] = []
        for (let i = 0; i < 3; i++)
          taken.push(names.get((await d.claim(queue, [a.pick(1, 1)])).got.get(1)![0]!.id)!)
        expect(taken, `priorityFairEvery ${every}`).toEqual(expected)
      }
    })

    it('hands back work of a poll that went away: claimable at once, its attempt not used up', async () => {
      const { d, hooks } = await w.dispatcher({ retryLimit: 1 })
      const org = await newOrg(w)
      const a = await enroll(w, org)
      const queue = instructionQueue(org, 'action', 'default')
      const woken = await wakes(w, queue)
      const inst = await d.enqueue(org, spec({ retryDelaySeconds: 0, retryBackoff: false }))
      const untouched = await d.enqueue(org, spec())
      await d.claim(queue, [a.pick(1, 1)])
      const wokenBefore = woken.count()
      await d.handBack(queue, [inst.id])
      expect(woken.count()).toBe(wokenBefore + 1)
      expect(await row(w, inst.id)).toMatchObject({
        status: 'queued',
        agentId: null,
        leaseUntil: null,
        attempt: 1,
      })
      expect(await jobOf(w, inst.id)).toMatchObject({ state: 'created', retryCount: 0, startedOn: null })
      const again = await d.claim(queue, [a.pick(2, 1)])
      expect(again.got.get(2)![0]).toMatchObject({ id: inst.id, attempt: 1 })

      // A retry handed back stays the retry it was, and keeps the retries it has left.
      expect(await d.report(a.agent, inst.id, { attempt: 1, status: 'failed' })).toMatchObject({
        willRetry: true,
      })
      const retry = await d.claim(queue, [a.pick(3, 1)])
      expect(retry.got.get(3)![0]).toMatchObject({ id: inst.id, attempt: 2 })
      const started = (await jobOf(w, inst.id))!.startedOn
      await d.handBack(queue, [inst.id])
      expect(await jobOf(w, inst.id)).toMatchObject({ state: 'created', retryCount: 0, startedOn: started })
      expect((await d.claim(queue, [a.pick(4, 1)])).got.get(4)![0]).toMatchObject({ attempt: 2 })
      expect(await d.report(a.agent, inst.id, { attempt: 2, status: 'failed' })).toMatchObject({
        instructionStatus: 'failed',
        willRetry: false,
      })

      // Only work still leased goes back: a reported instruction stays where it is, and
      // nothing to hand back wakes no one.
      await d.handBack(queue, [inst.id])
      expect(await row(w, inst.id)).toMatchObject({ status: 'failed', agentId: a.agent.id })
      const n = woken.count()
      await d.handBack(queue, [])
      expect(woken.count()).toBe(n)
      expect((await row(w, untouched.id)).status).toBe('queued')
      expect(hooks.calls).toEqual([])
    })
  })
}
