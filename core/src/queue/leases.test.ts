import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../../test/helpers/backends.ts'
import {
  type DispatchWorld,
  dbNow,
  deadLetters,
  type Enrolled,
  enroll,
  jobOf,
  newOrg,
  openDispatchWorld,
  type Rig,
  refusal,
  row,
  wakes,
} from '../../test/helpers/dispatch.ts'
import type { InstructionSpec } from '../types.ts'

// Leases on a real database without HTTP: renewed by their holder, given up past their
// deadline or their step's timeout (retried or failed), ended at once for gone agents, and
// cancelled by operators. Time moves in the database (lease_until, picked_at), never by
// waiting. The sweeper sees every organization's leases: each test leaves none expired.

const spec = (over: Partial<InstructionSpec> = {}): InstructionSpec => ({
  kind: 'action',
  pool: 'default',
  plugin: 'shell',
  operation: 'run',
  retryDelaySeconds: 0,
  retryBackoff: false,
  ...over,
})

// Leases that do not end by themselves while a test runs.
const LONG = { leaseTtlMs: 600_000 }

for (const backend of backends()) {
  describe(`dispatcher leases on ${backend.name}`, () => {
    let w: DispatchWorld
    beforeAll(async () => {
      w = await openDispatchWorld(backend)
    })
    afterAll(async () => {
      await w?.close()
      await backend.cleanup()
    })

    const held = async (rig: Rig, org: string, agent: Enrolled, over: Partial<InstructionSpec> = {}) => {
      const inst = await rig.d.enqueue(org, spec(over))
      const got = (await rig.d.claim(inst.queue, [agent.pick(1, 1)])).got.get(1)
      expect(got?.map((i) => i.id)).toEqual([inst.id])
      return got![0]!
    }
    const expire = (id: string, ago = '1 second') =>
      w.db.sql.query(`UPDATE instructions SET lease_until = now() - $2::interval WHERE id = $1`, [id, ago])
    const pickedAgo = (id: string, ms: number) =>
      w.db.sql.query(
        `UPDATE instructions SET picked_at = now() - $2::int * interval '1 millisecond' WHERE id = $1`,
        [id, ms],
      )
    const notHeld = async (p: Promise<unknown>, id: string, attempt: number) => {
      const err = await refusal(p)
      expect(err.code).toBe('STAVILY_ERR_INSTRUCTION_NOT_HELD')
      expect(err.message).toBe(
        `instruction ${id} attempt ${attempt}: not held by this agent (unknown, finished, or its lease went to another attempt)`,
      )
    }

    it('renews the lease of its holder: running, for the lease time from now, with the cancel flag', async () => {
      const rig = await w.dispatcher({ leaseTtlMs: 45_000 })
      const org = await newOrg(w)
      const [a, b] = [await enroll(w, org), await enroll(w, org)]
      const inst = await held(rig, org, a)
      await w.db.sql.query(
        `UPDATE instructions SET lease_until = now() + interval '1 second' WHERE id = $1`,
        [inst.id],
      )
      const before = await dbNow(w)
      const renewed = await rig.d.renew(a.agent, inst.id, 1)
      const after = await dbNow(w)
      expect(renewed.cancel).toBe(false)
      expect(renewed.leaseUntil.getTime()).toBeGreaterThanOrEqual(before + 45_000)
      expect(renewed.leaseUntil.getTime()).toBeLessThanOrEqual(after + 45_000)
      expect(await row(w, inst.id)).toMatchObject({ status: 'running', leaseUntil: renewed.leaseUntil })
      // Renewing a running lease keeps it running.
      expect((await rig.d.renew(a.agent, inst.id, 1)).cancel).toBe(false)
      expect((await row(w, inst.id)).status).toBe('running')

      await notHeld(rig.d.renew(b.agent, inst.id, 1), inst.id, 1)
      await notHeld(rig.d.renew(a.agent, inst.id, 2), inst.id, 2)
      const unknown = randomUUID()
      await notHeld(rig.d.renew(a.agent, unknown, 1), unknown, 1)
      const waiting = await rig.d.enqueue(org, spec())
      await notHeld(rig.d.renew(a.agent, waiting.id, 0), waiting.id, 0)

      // Asked to cancel: the holder learns it on its next renewal, and from cancelsFor.
      expect(await rig.d.cancelsFor(a.agent.id)).toEqual([])
      await rig.d.cancel(org, inst.id)
      expect((await rig.d.renew(a.agent, inst.id, 1)).cancel).toBe(true)
      expect(await rig.d.cancelsFor(a.agent.id)).toEqual([{ id: inst.id, attempt: 1 }])
      expect(await rig.d.cancelsFor(b.agent.id)).toEqual([])

      // Finished: no longer renewable, and no longer a cancel to act on.
      await rig.d.report(a.agent, inst.id, { attempt: 1, status: 'cancelled' })
      await notHeld(rig.d.renew(a.agent, inst.id, 1), inst.id, 1)
      expect(await rig.d.cancelsFor(a.agent.id)).toEqual([])
    })

    it('requeues work whose lease ended, then fails and dead-letters it after the last attempt', async () => {
      const rig = await w.dispatcher({ ...LONG, retryLimit: 1 })
      const org = await newOrg(w)
      const [a, b] = [await enroll(w, org), await enroll(w, org)]
      const inst = await held(rig, org, a)
      const fresh = await held(rig, org, b)
      const woken = await wakes(w, inst.queue)
      await expire(inst.id)
      expect(await rig.d.sweepLeases()).toBe(1)
      const lost = { code: 'STAVILY_ERR_LEASE_EXPIRED', message: 'lease of attempt 1 ended before a result' }
      expect(await row(w, inst.id)).toMatchObject({
        status: 'queued',
        agentId: null,
        leaseUntil: null,
        finishedAt: null,
        error: lost,
      })
      expect((await jobOf(w, inst.id))?.state).toBe('retry')
      expect(woken.count()).toBe(1)
      expect(rig.metrics.leasesExpired).toBe(1)
      // A lease still running is left alone.
      expect(await row(w, fresh.id)).toMatchObject({ status: 'leased', agentId: b.agent.id })

      const retry = (await rig.d.claim(inst.queue, [b.pick(2, 1)])).got.get(2)![0]!
      expect(retry).toMatchObject({ id: inst.id, attempt: 2 })
      await rig.d.renew(b.agent, inst.id, 2)
      await expire(inst.id)
      expect(await rig.d.sweepLeases()).toBe(1)
      const failed = await row(w, inst.id)
      expect(failed).toMatchObject({
        status: 'failed',
        leaseUntil: null,
        error: { code: 'STAVILY_ERR_LEASE_EXPIRED', message: 'lease of attempt 2 ended before a result' },
        output: null,
      })
      expect(failed.finishedAt).toBeInstanceOf(Date)
      expect((await jobOf(w, inst.id))?.state).toBe('failed')
      expect(rig.metrics.deadLettered).toBe(1)
      expect(await deadLetters(w, org)).toEqual([failed.error])
      expect(rig.metrics.leasesExpired).toBe(2)
      expect(woken.count()).toBe(1)
      expect(await rig.d.sweepLeases()).toBe(0)
      expect(rig.hooks.calls).toEqual([])
    })

    it('fails a step attempt past its timeout while its lease is still renewed, and only a step', async () => {
      const rig = await w.dispatcher({ ...LONG, retryLimit: 1 })
      const org = await newOrg(w)
      const a = await enroll(w, org)
      const runId = randomUUID()
      const step = await held(rig, org, a, { runId, stepId: 'build', timeoutMs: 5_000 })
      const plain = await held(rig, org, a, { timeoutMs: 5_000 })
      const within = await held(rig, org, a, { runId, stepId: 'test', timeoutMs: 5_000 })
      await rig.d.renew(a.agent, step.id, 1)
      await pickedAgo(step.id, 6_000)
      await pickedAgo(plain.id, 6_000)
      await pickedAgo(within.id, 3_000)
      rig.hooks.calls.length = 0
      expect(await rig.d.sweepLeases()).toBe(1)
      const timeout = {
        code: 'STAVILY_ERR_STEP_TIMEOUT',
        message: 'attempt 1 ran longer than its timeout of 5000 ms',
      }
      expect(await row(w, step.id)).toMatchObject({ status: 'queued', agentId: null, error: timeout })
      expect(rig.hooks.calls).toEqual([
        {
          hook: 'requeued',
          instructions: [{ id: step.id, orgId: org, runId, stepId: 'build', error: timeout }],
        },
      ])
      expect(rig.hooks.seenStatus.at(-1)).toBe('queued')
      // Outside a step the timeout is the agent's to keep; within its time a step runs on.
      expect(await row(w, plain.id)).toMatchObject({ status: 'leased', error: null })
      expect(await row(w, within.id)).toMatchObject({ status: 'leased', error: null })

      // The last attempt: the step fails, and the engine is told after the commit.
      await rig.d.claim(step.queue, [a.pick(2, 1)])
      await pickedAgo(step.id, 5_001)
      rig.hooks.calls.length = 0
      expect(await rig.d.sweepLeases()).toBe(1)
      const last = {
        code: 'STAVILY_ERR_STEP_TIMEOUT',
        message: 'attempt 2 ran longer than its timeout of 5000 ms',
      }
      expect(await row(w, step.id)).toMatchObject({ status: 'failed', error: last })
      expect(rig.hooks.calls).toEqual([
        {
          hook: 'finished',
          outcome: {
            id: step.id,
            orgId: org,
            runId,
            stepId: 'build',
            attempt: 2,
            status: 'failed',
            output: null,
            error: last,
          },
          lockedRun: undefined,
        },
      ])
      expect(rig.hooks.seenStatus.at(-1)).toBe('failed')
      expect(rig.hooks.afterCommits).toBe(1)

      // Past both its timeout and its lease: the lease is what ended.
      await expire(within.id)
      await pickedAgo(within.id, 6_000)
      await rig.d.sweepLeases()
      expect((await row(w, within.id)).error).toMatchObject({ code: 'STAVILY_ERR_LEASE_EXPIRED' })
      // Cleared for the other tests' sweeps.
      await rig.d.report(a.agent, plain.id, { attempt: 1, status: 'succeeded' })
    })

    it('gives up at most `limit` leases per sweep, those that ended first, and wakes each queue once', async () => {
      const rig = await w.dispatcher(LONG)
      const org = await newOrg(w)
      const a = await enroll(w, org)
      const insts = [await held(rig, org, a), await held(rig, org, a), await held(rig, org, a)]
      const woken = await wakes(w, insts[0]!.queue)
      await expire(insts[0]!.id, '1 second')
      await expire(insts[1]!.id, '3 seconds')
      await expire(insts[2]!.id, '2 seconds')
      expect(await rig.d.sweepLeases(1)).toBe(1)
      expect((await row(w, insts[1]!.id)).status).toBe('queued')
      expect((await row(w, insts[2]!.id)).status).toBe('leased')
      expect(await rig.d.sweepLeases(5)).toBe(2)
      for (const i of insts) expect((await row(w, i.id)).status).toBe('queued')
      expect(woken.count()).toBe(2)
      expect(rig.metrics.leasesExpired).toBe(3)
    })

    it('tells the engine nothing of swept work that is not a step', async () => {
      const rig = await w.dispatcher({ ...LONG, retryLimit: 0 })
      const org = await newOrg(w)
      const a = await enroll(w, org)
      // A run without a step id times out like a step, but has no step to finish.
      const orphan = await held(rig, org, a, { runId: randomUUID(), timeoutMs: 1_000 })
      const plain = await held(rig, org, a)
      await pickedAgo(orphan.id, 2_000)
      await expire(plain.id)
      rig.hooks.calls.length = 0
      expect(await rig.d.sweepLeases()).toBe(2)
      expect(await row(w, orphan.id)).toMatchObject({
        status: 'failed',
        error: { code: 'STAVILY_ERR_STEP_TIMEOUT' },
      })
      expect(await row(w, plain.id)).toMatchObject({
        status: 'failed',
        error: { code: 'STAVILY_ERR_LEASE_EXPIRED' },
      })
      expect(rig.hooks.calls).toEqual([])
      expect(rig.metrics.deadLettered).toBe(2)
    })

    it('ends the leases of gone agents now, leaving other agents’ alone', async () => {
      const rig = await w.dispatcher(LONG)
      const org = await newOrg(w)
      const [a, b] = [await enroll(w, org), await enroll(w, org)]
      const leased = await held(rig, org, a)
      const running = await held(rig, org, a)
      await rig.d.renew(a.agent, running.id, 1)
      const others = await held(rig, org, b)
      const done = await held(rig, org, a)
      await rig.d.report(a.agent, done.id, { attempt: 1, status: 'succeeded' })
      await rig.d.releaseAgents([a.agent.id])
      const now = await dbNow(w)
      for (const id of [leased.id, running.id])
        expect((await row(w, id)).leaseUntil!.getTime()).toBeLessThan(now)
      expect((await row(w, others.id)).leaseUntil!.getTime()).toBeGreaterThan(now)
      expect((await row(w, done.id)).leaseUntil).toBeNull()
      await rig.d.releaseAgents([])
      expect(await rig.d.sweepLeases()).toBe(2)
      expect((await row(w, leased.id)).status).toBe('queued')
      expect((await row(w, running.id)).status).toBe('queued')
      expect((await row(w, others.id)).status).toBe('leased')
      expect((await row(w, done.id)).status).toBe('succeeded')
    })

    it('cancels queued work at once and asks the holder of leased work to stop', async () => {
      const rig = await w.dispatcher(LONG)
      const org = await newOrg(w)
      const a = await enroll(w, org)
      const waiting = await rig.d.enqueue(org, spec())
      const cancelled = await rig.d.cancel(org, waiting.id)
      expect(cancelled).toMatchObject({ id: waiting.id, status: 'cancelled', cancelRequested: true })
      expect(cancelled.finishedAt).toBeInstanceOf(Date)
      expect(await rig.d.get(org, waiting.id)).toEqual(cancelled)
      expect((await jobOf(w, waiting.id))?.state).toBe('cancelled')
      expect((await rig.d.claim(waiting.queue, [a.pick(1, 1)])).got.size).toBe(0)

      const busy = await held(rig, org, a)
      const asked = await rig.d.cancel(org, busy.id)
      expect(asked).toMatchObject({
        status: 'leased',
        cancelRequested: true,
        finishedAt: null,
        agentId: a.agent.id,
      })
      expect((await jobOf(w, busy.id))?.state).toBe('active')
      expect(rig.hooks.calls).toEqual([])

      const stranger = await newOrg(w)
      const missing = await refusal(rig.d.cancel(stranger, busy.id))
      expect(missing.code).toBe('STAVILY_ERR_NOT_FOUND')
      expect(missing.message).toBe(`instruction ${busy.id}: not found`)
      expect((await row(w, busy.id)).cancelRequested).toBe(true)
      await rig.d.report(a.agent, busy.id, { attempt: 1, status: 'cancelled' })
    })

    it('finishes a queued step it cancels, unless the caller’s transaction cancels the run', async () => {
      const rig = await w.dispatcher(LONG)
      const org = await newOrg(w)
      const runId = randomUUID()
      const step = await rig.d.enqueue(org, spec({ runId, stepId: 'build' }))
      await rig.d.cancel(org, step.id)
      expect(rig.hooks.calls).toEqual([
        {
          hook: 'finished',
          outcome: {
            id: step.id,
            orgId: org,
            runId,
            stepId: 'build',
            attempt: 0,
            status: 'cancelled',
            output: null,
            error: { code: 'STAVILY_ERR_CANCELLED', message: 'cancelled before an agent took it' },
          },
          lockedRun: undefined,
        },
      ])
      expect(rig.hooks.seenStatus).toEqual(['cancelled'])
      expect(rig.hooks.afterCommits).toBe(1)

      rig.hooks.calls.length = 0
      const inRun = await rig.d.enqueue(org, spec({ runId, stepId: 'test' }))
      const inst = await w.db.sql.transaction((tx) => rig.d.cancel(org, inRun.id, tx))
      expect(inst).toMatchObject({ status: 'cancelled' })
      expect((await jobOf(w, inRun.id))?.state).toBe('cancelled')
      expect(rig.hooks.calls).toEqual([])
      // Rolled back with the caller: still queued, its job too.
      const kept = await rig.d.enqueue(org, spec({ runId, stepId: 'deploy' }))
      await expect(
        w.db.sql.transaction(async (tx) => {
          await rig.d.cancel(org, kept.id, tx)
          throw new Error('caller failed')
        }),
      ).rejects.toThrow('caller failed')
      expect((await row(w, kept.id)).status).toBe('queued')
      expect((await jobOf(w, kept.id))?.state).toBe('created')

      // Work outside a step: nothing to tell the engine.
      await rig.d.cancel(org, (await rig.d.enqueue(org, spec())).id)
      expect(rig.hooks.calls).toEqual([])
      expect(rig.hooks.afterCommits).toBe(1)
    })
  })
}
