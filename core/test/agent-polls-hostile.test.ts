import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, enqueue, enroll, type Running, setups, until } from './helpers/harness.ts'

// Long-polls under abuse: one credential parking many polls, and polls that outlive their
// agent's revocation or credential rotation (issue 12, items 1 and 2).

const poll = (r: Running, credential: string, query = 'waitMs=20000') =>
  call(r.url, 'GET', `/agents/v1/instructions?${query}`, { token: credential })

const parked = (r: Running, n: number) =>
  until(async () => r.o.services.polls.parked >= n, 5_000, `${n} parked polls`)

const ids = (answers: { body: { instructions?: { id: string }[] } }[]) =>
  answers.flatMap((a) => (a.body.instructions ?? []).map((i) => i.id))

// Long waits (20 s) stand for "still parked": every assertion below is reached in well under that.
const SOON_MS = 5_000

for (const setup of setups()) {
  describe(`parked polls on ${setup.name}`, () => {
    beforeAll(() => setup.prepare())
    afterAll(() => setup.cleanup())

    it("hands each instruction to exactly one of an agent's parked polls", async () => {
      const r = await setup.start({ tuning: { pollsPerAgent: 3 } })
      const a = await enroll(r, 'action', 'many')
      const polls = [0, 1, 2].map(() => poll(r, a.credential, 'max=10&waitMs=20000'))
      await parked(r, 3)
      const sent: string[] = []
      for (const left of [2, 1, 0]) {
        sent.push((await enqueue(r, { pool: 'many' })).id)
        await until(async () => r.o.services.polls.parked <= left, SOON_MS, `${left} polls left`)
      }
      const answered = await Promise.all(polls)
      // Each poll got one instruction, and no instruction went out twice.
      expect(answered.map((x) => x.body.instructions.length)).toEqual([1, 1, 1])
      expect(ids(answered).sort()).toEqual([...sent].sort())
    })

    it('keeps each answer within its max', async () => {
      const r = await setup.start()
      const a = await enroll(r, 'action', 'capped')
      const sent = [] as string[]
      for (let i = 0; i < 3; i++) sent.push((await enqueue(r, { pool: 'capped' })).id)
      const first = await poll(r, a.credential, 'max=2&waitMs=2000')
      const second = await poll(r, a.credential, 'max=10&waitMs=2000')
      expect(first.body.instructions).toHaveLength(2)
      expect(second.body.instructions).toHaveLength(1)
      expect(ids([first, second]).sort()).toEqual(sent.sort())
    })

    it('keeps at most two parked polls per agent: a further poll ends the oldest, and 20 polls lease one instruction once', async () => {
      const r = await setup.start()
      const a = await enroll(r, 'action', 'flood')
      const t0 = Date.now()
      const done: boolean[] = []
      const polls = Array.from({ length: 20 }, (_, i) => {
        done[i] = false
        return poll(r, a.credential).then((x) => {
          done[i] = true
          return x
        })
      })
      // 18 are ended (answered empty) long before their 20 s wait.
      await until(async () => done.filter(Boolean).length >= 18, SOON_MS, '18 polls ended')
      expect(Date.now() - t0).toBeLessThan(SOON_MS)
      expect(r.o.services.polls.parked).toBe(2)
      const still = polls.filter((_, i) => !done[i])
      expect(still).toHaveLength(2)
      const inst = await enqueue(r, { pool: 'flood' })
      const first = await Promise.race(still)
      expect(ids([first])).toEqual([inst.id])
      // The other parked poll does not get it too.
      void poll(r, a.credential, 'waitMs=100')
      void poll(r, a.credential, 'waitMs=100')
      const all = await Promise.all(polls)
      expect(ids(all)).toEqual([inst.id])
      const row = await r.o.services.dispatcher.get(a.orgId, inst.id)
      expect(row).toMatchObject({ status: 'leased', attempt: 1, agentId: a.id })
    })

    it('ends a parked poll with 401 when its agent is revoked, at once, and leases it nothing', async () => {
      // No re-check during the test: only the revocation announcement can end the poll early.
      const r = await setup.start({ tuning: { recheckMs: 60_000 } })
      const a = await enroll(r, 'action', 'rev')
      const p = poll(r, a.credential)
      await parked(r, 1)
      const t0 = Date.now()
      const rv = await call(r.operatorUrl, 'POST', `/api/v1/agents/${a.id}/revoke`, { token: r.admin })
      expect(rv.status).toBe(200)
      const got = await p
      expect(Date.now() - t0).toBeLessThan(SOON_MS)
      expect(got.status).toBe(401)
      expect(got.body.error.code).toBe('STAVILY_ERR_AGENT_REVOKED')
      const inst = await enqueue(r, { pool: 'rev' })
      expect((await r.o.services.dispatcher.get(a.orgId, inst.id)).status).toBe('queued')
    })

    it('ends a poll parked with a credential that is then rotated, and keeps polls with the new one', async () => {
      const r = await setup.start({ tuning: { recheckMs: 60_000 } })
      const a = await enroll(r, 'action', 'rot')
      const old = poll(r, a.credential)
      await parked(r, 1)
      const rot = await call(r.url, 'POST', '/agents/v1/credential/rotate', { token: a.credential })
      expect(rot.status).toBe(200)
      const got = await old
      expect(got.status).toBe(401)
      expect(got.body.error.code).toBe('STAVILY_ERR_UNAUTHENTICATED')
      const fresh = poll(r, rot.body.credential)
      await parked(r, 1)
      const inst = await enqueue(r, { pool: 'rot' })
      expect(ids([await fresh])).toEqual([inst.id])
    })

    it('ends the parked polls of an agent set to drain, and leases it nothing more', async () => {
      const r = await setup.start({ tuning: { recheckMs: 60_000 } })
      const a = await enroll(r, 'action', 'drained')
      const p = poll(r, a.credential)
      await parked(r, 1)
      const d = await call(r.operatorUrl, 'POST', `/api/v1/agents/${a.id}/drain`, {
        token: r.admin,
        body: { drain: true },
      })
      expect(d.status).toBe(200)
      const t0 = Date.now()
      const ended = await p
      expect(ended.body.instructions).toEqual([])
      expect(Date.now() - t0).toBeLessThan(SOON_MS)
      // Its next poll is told why, and work queued now waits for another agent.
      const inst = await enqueue(r, { pool: 'drained' })
      expect((await poll(r, a.credential)).body).toMatchObject({ instructions: [], drain: true })
      expect((await r.o.services.dispatcher.get(a.orgId, inst.id)).status).toBe('queued')
    })

    it('leases nothing to a poll parked before its agent was set to drain without any announcement', async () => {
      const r = await setup.start({ tuning: { recheckMs: 60_000 } })
      const a = await enroll(r, 'action', 'quiet-drain')
      const p = poll(r, a.credential)
      await parked(r, 1)
      // Drained behind the orchestrator's back (no fleet message): the claim must see it.
      await r.o.services.db.sql.query('UPDATE agents SET drain = true WHERE id = $1', [a.id])
      const inst = await enqueue(r, { pool: 'quiet-drain' })
      expect((await p).body.instructions).toEqual([])
      expect(await r.o.services.dispatcher.get(a.orgId, inst.id)).toMatchObject({
        status: 'queued',
        agentId: null,
      })
    })

    it('refuses the lease in the claim itself when the agent was revoked without any announcement', async () => {
      const r = await setup.start({ tuning: { recheckMs: 60_000 } })
      const a = await enroll(r, 'action', 'quiet')
      const p = poll(r, a.credential)
      await parked(r, 1)
      // Revoked behind the orchestrator's back (no fleet message): the claim must see it.
      await r.o.services.db.sql.query(`UPDATE agents SET status = 'revoked' WHERE id = $1`, [a.id])
      const inst = await enqueue(r, { pool: 'quiet' })
      const got = await p
      expect(got.status).toBe(401)
      expect(got.body.error.code).toBe('STAVILY_ERR_AGENT_REVOKED')
      const row = await r.o.services.dispatcher.get(a.orgId, inst.id)
      expect(row).toMatchObject({ status: 'queued', agentId: null })
      // It is still claimable by a good agent at once.
      const b = await enroll(r, 'action', 'quiet')
      expect(ids([await poll(r, b.credential)])).toEqual([inst.id])
    })
  })
}

for (const setup of setups({ pglite: false })) {
  describe(`revocation across instances on ${setup.name}`, () => {
    beforeAll(() => setup.prepare())
    afterAll(() => setup.cleanup())

    it('a revoke on one instance ends the polls parked on another, through the fleet channel', async () => {
      const a = await setup.start({ tuning: { recheckMs: 60_000 } })
      const b = await a.twin()
      const agent = await enroll(a, 'action', 'twin')
      const p = poll(b, agent.credential)
      await parked(b, 1)
      const t0 = Date.now()
      const rv = await call(a.operatorUrl, 'POST', `/api/v1/agents/${agent.id}/revoke`, { token: a.admin })
      expect(rv.status).toBe(200)
      const got = await p
      expect(Date.now() - t0).toBeLessThan(SOON_MS)
      expect(got.status).toBe(401)
      expect(got.body.error.code).toBe('STAVILY_ERR_AGENT_REVOKED')
    })

    it("a rotation through one instance ends the old credential's poll parked on another", async () => {
      const a = await setup.start({ tuning: { recheckMs: 60_000 } })
      const b = await a.twin()
      const agent = await enroll(a, 'action', 'twin-rot')
      const p = poll(b, agent.credential)
      await parked(b, 1)
      const rot = await call(a.url, 'POST', '/agents/v1/credential/rotate', { token: agent.credential })
      expect(rot.status).toBe(200)
      const got = await p
      expect(got.status).toBe(401)
    })
  })
}
