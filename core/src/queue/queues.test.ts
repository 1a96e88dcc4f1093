import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../../test/helpers/backends.ts'
import {
  type DispatchWorld,
  enroll,
  jobOf,
  newOrg,
  openDispatchWorld,
  refusal,
  wakes,
} from '../../test/helpers/dispatch.ts'
import { run } from '../db/sql-client.ts'
import { DEFAULTS, LIMITS } from '../defaults.ts'
import type { InstructionSpec } from '../types.ts'
import { bossSchema } from './boss.ts'
import { DEAD_LETTER_QUEUE, instructionQueue } from './queue-names.ts'

// What enqueueing stores, on a real database without HTTP: the instruction as users see it,
// its pg-boss job (same id) with the retry limit, priority and expiry the dispatcher chose,
// and the wake-up of the pool's parked polls once both are committed.

const spec = (over: Partial<InstructionSpec> = {}): InstructionSpec => ({
  kind: 'action',
  pool: 'default',
  plugin: 'shell',
  operation: 'run',
  ...over,
})

for (const backend of backends()) {
  describe(`dispatcher queues on ${backend.name}`, () => {
    let w: DispatchWorld
    beforeAll(async () => {
      w = await openDispatchWorld(backend)
    })
    afterAll(async () => {
      await w?.close()
      await backend.cleanup()
    })

    const queueRow = async (name: string) =>
      (
        await w.db.sql.query<Record<string, unknown>>(
          `SELECT retry_limit AS "retryLimit", retry_delay AS "retryDelay", retry_backoff AS "retryBackoff",
             expire_seconds AS "expireSeconds", dead_letter AS "deadLetter"
           FROM ${bossSchema(w.db)}.queue WHERE name = $1`,
          [name],
        )
      ).rows[0]

    it('stores an instruction with the defaults of its pool and a pg-boss job of the same id', async () => {
      const { d } = await w.dispatcher({ leaseTtlMs: 12_345, retryLimit: 2, retryDelaySeconds: 3 })
      const org = await newOrg(w)
      const queue = instructionQueue(org, 'action', 'default')
      const woken = await wakes(w, queue)
      const inst = await d.enqueue(org, spec())
      expect(inst).toEqual({
        id: expect.any(String),
        orgId: org,
        kind: 'action',
        pool: 'default',
        queue,
        plugin: 'shell',
        operation: 'run',
        input: {},
        config: {},
        timeoutMs: 12_345,
        status: 'queued',
        attempt: 0,
        maxAttempts: 3,
        agentId: null,
        leaseUntil: null,
        cancelRequested: false,
        error: null,
        output: null,
        createdAt: expect.any(Date),
        pickedAt: null,
        finishedAt: null,
        pluginVersion: null,
        idempotencyKey: inst.id,
        runId: null,
        stepId: null,
        priority: 0,
      })
      expect(await d.get(org, inst.id)).toEqual(inst)
      expect(await jobOf(w, inst.id)).toEqual({
        id: inst.id,
        name: queue,
        state: 'created',
        priority: 0,
        retryLimit: 2,
        retryCount: 0,
        retryDelay: 3,
        retryBackoff: true,
        // The pool's expiry: the step's own timeout is well within it.
        expireSeconds: 3_600,
        startedOn: null,
        data: { orgId: org },
      })
      // The pool's queue, created on first use with the dispatcher's retry policy and dead letter.
      expect(await queueRow(queue)).toEqual({
        retryLimit: 2,
        retryDelay: 3,
        retryBackoff: true,
        expireSeconds: DEFAULTS.jobHardExpirySeconds,
        deadLetter: DEAD_LETTER_QUEUE,
      })
      expect(await queueRow(DEAD_LETTER_QUEUE)).toBeDefined()
      expect(woken.count()).toBe(1)
    })

    it('stores what the spec says over the defaults, down to a retry limit of 0', async () => {
      const { d } = await w.dispatcher()
      const org = await newOrg(w)
      const id = randomUUID()
      const runId = randomUUID()
      const inst = await d.enqueue(
        org,
        spec({
          id,
          kind: 'sensor',
          pool: 'edge',
          input: { cmd: 'ls' },
          config: { shell: 'bash' },
          timeoutMs: 5_000,
          retryLimit: 0,
          retryDelaySeconds: 7,
          retryBackoff: false,
          pluginVersion: '1.2.3',
          idempotencyKey: 'step-key',
          runId,
          stepId: 'build',
          priority: 5,
        }),
      )
      expect(inst).toMatchObject({
        id,
        kind: 'sensor',
        pool: 'edge',
        queue: instructionQueue(org, 'sensor', 'edge'),
        input: { cmd: 'ls' },
        config: { shell: 'bash' },
        timeoutMs: 5_000,
        maxAttempts: 1,
        pluginVersion: '1.2.3',
        idempotencyKey: 'step-key',
        runId,
        stepId: 'build',
        priority: 5,
      })
      expect(await jobOf(w, id)).toMatchObject({
        name: instructionQueue(org, 'sensor', 'edge'),
        priority: 5,
        retryLimit: 0,
        retryDelay: 7,
        retryBackoff: false,
      })
    })

    it("gives a job pg-boss's expiry past the pool's when the step may run longer, capped below a day", async () => {
      const { d } = await w.dispatcher()
      const org = await newOrg(w)
      const slack = LIMITS.jobExpirySlackSeconds
      const hard = DEFAULTS.jobHardExpirySeconds
      const cases: [timeoutMs: number, expireSeconds: number][] = [
        // Timeout plus slack exactly at the pool's expiry: the pool's.
        [(hard - slack) * 1000, hard],
        [(hard - slack + 1) * 1000, hard + 1],
        // A fraction of a second rounds up: pg-boss must never cut the attempt short.
        [(hard - slack) * 1000 + 500, hard + 1],
        [(hard - slack) * 1000 + 1, hard + 1],
        [2 * hard * 1000, 2 * hard + slack],
        [LIMITS.jobExpiryMaxSeconds * 1000 - slack * 1000, LIMITS.jobExpiryMaxSeconds],
        // A day or more: the most pg-boss accepts, rather than a refused enqueue.
        [(LIMITS.jobExpiryMaxSeconds - slack + 1) * 1000, LIMITS.jobExpiryMaxSeconds],
        [7 * 86_400_000, LIMITS.jobExpiryMaxSeconds],
      ]
      for (const [timeoutMs, expireSeconds] of cases) {
        const inst = await d.enqueue(org, spec({ timeoutMs }))
        expect(inst.timeoutMs).toBe(timeoutMs)
        expect((await jobOf(w, inst.id))?.expireSeconds, `timeout ${timeoutMs} ms`).toBe(expireSeconds)
      }
    })

    it('refuses a priority out of range, naming the field, and stores nothing', async () => {
      const { d } = await w.dispatcher()
      const org = await newOrg(w)
      for (const priority of [101, -101, 1.5]) {
        const err = await refusal(d.enqueue(org, spec({ priority })))
        expect(err.code).toBe('STAVILY_ERR_INVALID_ARGUMENT')
        expect(err.message).toMatch(/^priority: /)
      }
      expect((await d.enqueue(org, spec({ priority: 100 }))).priority).toBe(100)
      expect((await d.enqueue(org, spec({ priority: -100 }))).priority).toBe(-100)
      const { rows } = await w.db.sql.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM instructions WHERE org_id = $1',
        [org],
      )
      expect(rows[0]!.n).toBe(2)
    })

    it('wakes the pool once the instruction is committed, and tells local listeners first', async () => {
      const { d } = await w.dispatcher()
      const org = await newOrg(w)
      const queue = instructionQueue(org, 'action', 'default')
      const id = randomUUID()
      const order: string[] = []
      const seen: Promise<number>[] = []
      await w.fleet.subscribe(`q:${queue}`, () => {
        order.push('published')
        // Another connection (PostgreSQL) sees the row only after the commit.
        seen.push(
          w.db.sql
            .query<{ n: number }>('SELECT count(*)::int AS n FROM instructions WHERE id = $1', [id])
            .then((r) => r.rows[0]!.n),
        )
      })
      const stop = d.onLocalWake((q) => order.push(`local ${q === queue}`))
      await d.enqueue(org, spec({ id }))
      expect(order).toEqual(['local true', 'published'])
      expect(await Promise.all(seen)).toEqual([1])
      stop()
      await d.wake(queue)
      expect(order).toEqual(['local true', 'published', 'published'])
    })

    it('enqueues inside a caller’s transaction only into an existing queue, and does not wake', async () => {
      const { d } = await w.dispatcher()
      const org = await newOrg(w)
      const queue = instructionQueue(org, 'action', 'default')
      const woken = await wakes(w, queue)
      const missing = await refusal(w.db.sql.transaction((tx) => d.enqueue(org, spec(), tx)))
      expect(missing.code).toBe('STAVILY_ERR_INTERNAL')
      expect(missing.message).toBe(
        `queue ${queue}: does not exist; ensureQueue() it before enqueueing inside a transaction`,
      )

      // Created by another instance: this one finds it in the database.
      const { d: other } = await w.dispatcher()
      await other.ensureQueue(queue)
      const inst = await w.db.sql.transaction((tx) => d.enqueue(org, spec({ input: { n: 1 } }), tx))
      expect(await d.get(org, inst.id)).toMatchObject({ status: 'queued', input: { n: 1 } })
      expect(await jobOf(w, inst.id)).toMatchObject({ state: 'created', name: queue })
      // The caller wakes after its own commit.
      expect(woken.count()).toBe(0)

      // Rolled back with the caller's transaction: neither the instruction nor its job.
      const id = randomUUID()
      await expect(
        w.db.sql.transaction(async (tx) => {
          await d.enqueue(org, spec({ id }), tx)
          throw new Error('caller failed')
        }),
      ).rejects.toThrow('caller failed')
      expect((await refusal(d.get(org, id))).code).toBe('STAVILY_ERR_NOT_FOUND')
      expect(await jobOf(w, id)).toBeUndefined()
    })

    it('prepares an instruction and its job as statements that store nothing until the caller runs them', async () => {
      const { d } = await w.dispatcher({ retryLimit: 4 })
      const org = await newOrg(w)
      const id = randomUUID()
      const prepared = await d.prepare(org, spec({ id, timeoutMs: 9_000 }))
      expect(prepared.id).toBe(id)
      expect(prepared.queue).toBe(instructionQueue(org, 'action', 'default'))
      expect(await jobOf(w, id)).toBeUndefined()
      // The queue was created by prepare (no caller transaction).
      const again = await w.db.sql.transaction((tx) => d.prepare(org, spec(), tx))
      expect(again.id).not.toBe(id)
      await w.db.sql.transaction(async (tx) => {
        await run(tx, prepared.statement)
        await run(tx, prepared.job)
      })
      expect(await d.get(org, id)).toMatchObject({ timeoutMs: 9_000, maxAttempts: 5, idempotencyKey: id })
      expect(await jobOf(w, id)).toMatchObject({ retryLimit: 4, state: 'created' })
    })

    it('reads an instruction only in its own organization, and counts queued work by pool', async () => {
      const { d } = await w.dispatcher()
      const org = await newOrg(w)
      const stranger = await newOrg(w)
      const a = await d.enqueue(org, spec())
      await d.enqueue(org, spec())
      await d.enqueue(org, spec({ pool: 'edge' }))
      await d.enqueue(org, spec({ kind: 'sensor' }))
      const missing = await refusal(d.get(stranger, a.id))
      expect(missing.code).toBe('STAVILY_ERR_NOT_FOUND')
      expect(missing.message).toBe(`instruction ${a.id}: not found`)

      // Taken by an agent: no longer waiting.
      const agent = await enroll(w, org)
      const claimed = await d.claim(a.queue, [agent.pick(1, 1)])
      expect(claimed.got.get(1)).toHaveLength(1)
      const mine = (await d.queueDepths()).filter((q) => q.orgId === org)
      expect(mine.sort((x, y) => `${x.kind}${x.pool}`.localeCompare(`${y.kind}${y.pool}`))).toEqual([
        { orgId: org, kind: 'action', pool: 'default', count: 1 },
        { orgId: org, kind: 'action', pool: 'edge', count: 1 },
        { orgId: org, kind: 'sensor', pool: 'default', count: 1 },
      ])
      await d.cancel(org, (await d.enqueue(org, spec({ pool: 'gone' }))).id)
      expect((await d.queueDepths()).filter((q) => q.orgId === org && q.pool === 'gone')).toEqual([])
    })
  })
}
