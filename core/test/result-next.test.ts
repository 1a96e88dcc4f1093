import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deliver, enablePlugin, HOOK_SECRET, SYSTEM } from './engine/fixtures.ts'
import { call, enqueue, enroll, setups, until } from './helpers/harness.ts'

// A result report that asks for next work (POST /instructions/:id/result?next=N): the reply
// carries what a poll would hand out at once, for that agent only; without `next` the reply
// is the answer alone, as before.

type Agent = { id: string; credential: string }
type R = Awaited<ReturnType<ReturnType<typeof setups>[number]['start']>>

async function take(r: R, agent: Agent, max = 1) {
  const got = await call(r.url, 'GET', `/agents/v1/instructions?waitMs=3000&max=${max}`, {
    token: agent.credential,
  })
  expect(got.status).toBe(200)
  return got.body.instructions as { id: string; attempt: number; leaseUntil: string }[]
}

async function status(r: R, id: string): Promise<{ status: string; attempt: number }> {
  return (await call(r.operatorUrl, 'GET', `/api/v1/instructions/${id}`, { token: r.admin })).body
}

function report(r: R, agent: Agent, id: string, attempt: number, query = '') {
  return call(r.url, 'POST', `/agents/v1/instructions/${id}/result${query}`, {
    token: agent.credential,
    body: { attempt, status: 'succeeded', output: { ok: true } },
  })
}

for (const setup of setups()) {
  describe(`result reports that ask for next work on ${setup.name}`, () => {
    beforeAll(() => setup.prepare())
    afterAll(() => setup.cleanup())

    it('hands the next instructions of the pool in the result reply, leased to that agent', async () => {
      const r = await setup.start()
      const agent = await enroll(r, 'action', 'next')
      const first = await enqueue(r, { pool: 'next' })
      const [held] = await take(r, agent)
      expect(held!.id).toBe(first.id)
      const b = await enqueue(r, { pool: 'next', input: { n: 2 } })
      const c = await enqueue(r, { pool: 'next', input: { n: 3 } })
      const d = await enqueue(r, { pool: 'next', input: { n: 4 } })
      const res = await report(r, agent, first.id, 1, '?next=2')
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({
        instructionId: first.id,
        attempt: 1,
        instructionStatus: 'succeeded',
        willRetry: false,
        drain: false,
        cancel: [],
      })
      const got = res.body.instructions as { id: string; attempt: number; leaseUntil: string }[]
      expect(got.map((i) => i.id).sort()).toEqual([b.id, c.id].sort())
      for (const i of got) {
        expect(i).toMatchObject({ attempt: 1, plugin: '@acme/restart', operation: 'run', secrets: {} })
        expect(Date.parse(i.leaseUntil)).toBeGreaterThan(Date.now())
        // Leased to this agent: it accepts and reports them like polled work.
        const acc = await call(r.url, 'POST', `/agents/v1/instructions/${i.id}/accept`, {
          token: agent.credential,
          body: { attempt: 1 },
        })
        expect(acc.status).toBe(200)
        expect((await status(r, i.id)).status).toBe('running')
      }
      // At most `next`: the third one waits in the queue.
      expect((await status(r, d.id)).status).toBe('queued')
      // The last result asks again: it gets the rest, and an empty list once the queue is empty.
      const again = await report(r, agent, got[0]!.id, 1, '?next=5')
      expect(again.body.instructions.map((i: { id: string }) => i.id)).toEqual([d.id])
      const empty = await report(r, agent, got[1]!.id, 1, '?next=5')
      expect(empty.body).toMatchObject({ instructionStatus: 'succeeded', instructions: [], drain: false })
    })

    it('answers as before without next (or next=0): the answer alone, nothing claimed', async () => {
      const r = await setup.start()
      const agent = await enroll(r, 'action', 'old')
      const a = await enqueue(r, { pool: 'old' })
      const b = await enqueue(r, { pool: 'old' })
      const held = await take(r, agent, 2)
      expect(held.map((i) => i.id).sort()).toEqual([a.id, b.id].sort())
      const waiting = await enqueue(r, { pool: 'old' })
      for (const [i, query] of [
        [held[0]!, ''],
        [held[1]!, '?next=0'],
      ] as const) {
        const res = await report(r, agent, i.id, 1, query)
        expect(res.status).toBe(200)
        expect(res.body).toEqual({
          instructionId: i.id,
          attempt: 1,
          instructionStatus: 'succeeded',
          willRetry: false,
        })
      }
      expect((await status(r, waiting.id)).status).toBe('queued')
      // A bad `next` is a 400 naming it, and records nothing.
      const bad = await call(r.url, 'POST', `/agents/v1/instructions/${waiting.id}/result?next=-1`, {
        token: agent.credential,
        body: { attempt: 1, status: 'succeeded' },
      })
      expect(bad.status).toBe(400)
      expect(JSON.stringify(bad.body)).toContain('next')
    })

    it('never hands work of another pool, kind or organization through a result', async () => {
      const r = await setup.start()
      const agent = await enroll(r, 'action', 'mine')
      const sensor = await enroll(r, 'sensor', 'mine')
      const mine = await enqueue(r, { pool: 'mine' })
      const [held] = await take(r, agent)
      expect(held!.id).toBe(mine.id)
      const other = await r.o.services.tenancy.createOrganization('other-org-next')
      const foreignWork = await enqueue(r, { pool: 'mine' }, other.adminToken)
      const otherPoolWork = await enqueue(r, { pool: 'theirs' })
      const res = await report(r, agent, mine.id, 1, '?next=10')
      expect(res.status).toBe(200)
      expect(res.body.instructions).toEqual([])
      // An agent of another organization reporting on this pool's work (with next) is refused
      // and takes nothing; a sensor agent of the pool neither.
      const queued = await enqueue(r, { pool: 'mine' })
      const foreign = await enroll(r, 'action', 'mine', { token: other.adminToken })
      for (const a of [foreign, sensor]) {
        const forged = await report(r, a, queued.id, 1, '?next=10')
        expect(forged.status).toBe(409)
        expect(forged.body.error.code).toBe('STAVILY_ERR_INSTRUCTION_NOT_HELD')
      }
      expect((await status(r, queued.id)).status).toBe('queued')
      expect((await status(r, otherPoolWork.id)).status).toBe('queued')
      const foreignSeen = await call(r.operatorUrl, 'GET', `/api/v1/instructions/${foreignWork.id}`, {
        token: other.adminToken,
      })
      expect(foreignSeen.body.status).toBe('queued')
    })

    it('asks PostgreSQL nothing for next work on a queue its last claim drained, until work comes', async () => {
      // Re-checks are rare here: only claims the test causes run.
      const r = await setup.start({ tuning: { recheckMs: 60_000, recheckDegradedMs: 60_000 } })
      const holder = await enroll(r, 'action', 'dry')
      const waiter = await enroll(r, 'action', 'dry')
      const warmUp = await enqueue(r, { pool: 'dry' })
      const held = await enqueue(r, { pool: 'dry' })
      expect((await take(r, holder, 2)).map((i) => i.id).sort()).toEqual([warmUp.id, held.id].sort())
      // Another agent's poll parks: its claim finds the queue empty.
      const parked = new Promise<void>((resolve) => {
        r.o.services.polls.onParked = () => resolve()
      })
      const poll = call(r.url, 'GET', '/agents/v1/instructions?waitMs=20000', { token: waiter.credential })
      await parked
      // That claim may have ended before the queue's wake-up subscription was in place (then
      // the queue is not known drained): a first result's next-work claim settles it.
      await report(r, holder, warmUp.id, 1, '?next=1')
      const dispatcher = r.o.services.dispatcher
      const claim = dispatcher.claim.bind(dispatcher)
      let claims = 0
      dispatcher.claim = (queue, picks) => {
        claims++
        return claim(queue, picks)
      }
      const res = await report(r, holder, held.id, 1, '?next=1')
      expect(res.body).toMatchObject({ instructionStatus: 'succeeded', instructions: [] })
      expect(claims).toBe(0)
      // New work wakes the queue: the parked poll gets it, from a claim.
      const fresh = await enqueue(r, { pool: 'dry' })
      expect((await poll).body.instructions.map((i: { id: string }) => i.id)).toEqual([fresh.id])
      expect(claims).toBeGreaterThan(0)
    })

    it("carries the run's next steps that its own result queued, on a queue its last claim drained", async () => {
      // Re-checks are rare here: only wake-ups and the reply's own claim hand out work.
      const r = await setup.start({ tuning: { recheckMs: 60_000, recheckDegradedMs: 60_000 } })
      const holder = await enroll(r, 'action', 'fan')
      const waiter = await enroll(r, 'action', 'fan')
      await enablePlugin(r, holder.orgId, 'fan', '@acme/restart', '1.0.0')
      await r.o.services.secrets.set(holder.orgId, 'HOOK_KEY', HOOK_SECRET)
      const step = (id: string) => `{ id: ${id}, plugin: "@acme/restart", version: ^1, pool: fan }`
      const { workflow } = await r.o.services.workflows.apply(
        holder.orgId,
        `
name: fan-out
trigger: { webhook: { secret: HOOK_KEY } }
actions:
  - ${step('first')}
outputs:
  - ${step('one')}
  - ${step('two')}
`,
        SYSTEM,
      )
      await deliver(r, workflow.id, {})
      const [first] = await until(async () => {
        const got = await take(r, holder)
        return got.length > 0 ? got : undefined
      })
      // Another agent's poll parks on the drained queue.
      const parked = new Promise<void>((resolve) => {
        r.o.services.polls.onParked = () => resolve()
      })
      const poll = call(r.url, 'GET', '/agents/v1/instructions?waitMs=20000', { token: waiter.credential })
      await parked
      // The result queues both outputs: the parked poll takes one (max 1), the reply the other,
      // from the claim the reply makes at once (not after the wake-up travels through Redis).
      const res = await report(r, holder, first!.id, first!.attempt, '?next=2')
      const polled = (await poll).body.instructions as { id: string }[]
      expect(polled).toHaveLength(1)
      expect(res.body.instructions).toHaveLength(1)
      expect(res.body.instructions[0].id).not.toBe(polled[0]!.id)
    })

    it('gives a draining agent no next work, and still records its result', async () => {
      const r = await setup.start()
      const agent = await enroll(r, 'action', 'drain')
      const a = await enqueue(r, { pool: 'drain' })
      await take(r, agent)
      const waiting = await enqueue(r, { pool: 'drain' })
      const d = await call(r.operatorUrl, 'POST', `/api/v1/agents/${agent.id}/drain`, {
        token: r.admin,
        body: { drain: true },
      })
      expect(d.body.drain).toBe(true)
      const res = await report(r, agent, a.id, 1, '?next=3')
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ instructionStatus: 'succeeded', instructions: [], drain: true })
      expect((await status(r, a.id)).status).toBe('succeeded')
      expect((await status(r, waiting.id)).status).toBe('queued')
    })

    it('past the poll budget a result is still recorded, with no next work (never a 429)', async () => {
      const r = await setup.start({ tuning: { rateLimitPerCredential: 2 } })
      const agent = await enroll(r, 'action', 'budget')
      const a = await enqueue(r, { pool: 'budget' })
      await take(r, agent)
      const b = await enqueue(r, { pool: 'budget' })
      // The first ask is inside the budget (poll + this ask = 2): it gets b.
      const first = await report(r, agent, a.id, 1, '?next=1')
      expect(first.status).toBe(200)
      expect(first.body.instructions.map((i: { id: string }) => i.id)).toEqual([b.id])
      const c = await enqueue(r, { pool: 'budget' })
      // The budget is spent: the result is recorded, its reply carries nothing, c stays queued.
      const second = await report(r, agent, b.id, 1, '?next=1')
      expect(second.status).toBe(200)
      expect(second.body).toMatchObject({ instructionStatus: 'succeeded', instructions: [], drain: false })
      expect((await status(r, b.id)).status).toBe('succeeded')
      expect((await status(r, c.id)).status).toBe('queued')
      const poll = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=0', { token: agent.credential })
      expect(poll.status).toBe(429)
    })

    it('a lost reply: the work it carried comes back when its lease ends, and runs once', async () => {
      const r = await setup.start({ tuning: { leaseTtlMs: 800 } })
      const agent = await enroll(r, 'action', 'lost')
      const a = await enqueue(r, { pool: 'lost' })
      await take(r, agent)
      const b = await enqueue(r, { pool: 'lost' })
      // The reply is never read: the agent never learns it holds b.
      const lost = await report(r, agent, a.id, 1, '?next=1')
      expect(lost.body.instructions.map((i: { id: string }) => i.id)).toEqual([b.id])
      // The same result again (the outbox's retry of a reply it did not get): the stored
      // answer; it asks for nothing, as the agent's retries do.
      const retried = await report(r, agent, a.id, 1)
      expect(retried.body).toEqual({
        instructionId: a.id,
        attempt: 1,
        instructionStatus: 'succeeded',
        willRetry: false,
      })
      // After the lease (and the retry delay), a poll gets b again, as a later attempt.
      const again = await until(async () => (await take(r, agent))[0], 20_000, 'b handed out again')
      expect(again.id).toBe(b.id)
      expect(again.attempt).toBeGreaterThan(1)
      // The lost attempt cannot be reported; the new one is, once.
      const stale = await report(r, agent, b.id, 1)
      expect(stale.status).toBe(409)
      const ok = await report(r, agent, b.id, again.attempt)
      expect(ok.body.instructionStatus).toBe('succeeded')
      const { rows } = await r.o.services.db.sql.query<{ attempt: number; status: string }>(
        'SELECT attempt, status FROM results WHERE instruction_id = $1',
        [b.id],
      )
      expect(rows).toEqual([{ attempt: again.attempt, status: 'succeeded' }])
    })
  })
}

// On PostgreSQL two reports of one attempt can run at once (PGlite has one connection): the
// second waits on the instruction's row lock, and must then answer the stored answer, not
// "not held".
for (const setup of setups({ pglite: false })) {
  describe(`concurrent duplicate result reports on ${setup.name}`, () => {
    afterAll(() => setup.cleanup())

    it('answers a duplicate that waited on the row lock with the stored answer', async () => {
      const r = await setup.start()
      const agent = await enroll(r, 'action', 'dup')
      const inst = await enqueue(r, { pool: 'dup' })
      await take(r, agent)
      const schema = (r.config.database as { schema: string }).schema
      const blocker = new pg.Client({ connectionString: process.env.DATABASE_URL })
      // Watches from outside the blocker's transaction (which would see one snapshot of pg_stat_activity).
      const watcher = new pg.Client({ connectionString: process.env.DATABASE_URL })
      await blocker.connect()
      await watcher.connect()
      try {
        // Hold the row lock so both reports take their snapshot, then wait on it together.
        await blocker.query('BEGIN')
        await blocker.query(`SELECT 1 FROM "${schema}".instructions WHERE id = $1 FOR UPDATE`, [inst.id])
        const both = [report(r, agent, inst.id, 1), report(r, agent, inst.id, 1)]
        // Both are waiting once two sessions are blocked, directly or behind each other, by this one.
        await until(
          async () => {
            const { rows } = await watcher.query<{ pid: number; by: number[] }>(
              'SELECT pid, pg_blocking_pids(pid) AS by FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid)) > 0',
            )
            const mine = new Set<number>([(await blocker.query('SELECT pg_backend_pid() AS p')).rows[0].p])
            for (let grew = true; grew; ) {
              grew = false
              for (const row of rows)
                if (!mine.has(row.pid) && row.by.some((p) => mine.has(p))) {
                  mine.add(row.pid)
                  grew = true
                }
            }
            return mine.size >= 3
          },
          15_000,
          'both reports waiting on the row lock',
        )
        await blocker.query('COMMIT')
        const [one, two] = await Promise.all(both)
        expect(one!.status).toBe(200)
        expect(two!.status).toBe(200)
        expect(two!.body).toEqual(one!.body)
        expect(one!.body).toMatchObject({ instructionStatus: 'succeeded', willRetry: false })
      } finally {
        await blocker.end()
        await watcher.end()
      }
    })
  })
}
