import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashSecret } from '../src/auth/secrets.ts'
import { deliver, enablePlugin, HOOK_SECRET, runDone, SYSTEM } from './engine/fixtures.ts'
import { call, enqueue, enroll, parked, setups, sleep, until } from './helpers/harness.ts'

for (const setup of setups()) {
  describe(`agent API on ${setup.name}`, () => {
    beforeAll(() => setup.prepare())
    afterAll(() => setup.cleanup())

    it('enrolls an agent, hands it work through a long-poll, renews the lease and takes the result once', async () => {
      // Re-checks are rare here: only the wake-up of the enqueue can answer the parked poll.
      const r = await setup.start({ tuning: { recheckMs: 60_000 } })
      const agent = await enroll(r, 'action', 'web')
      const isParked = parked(r)
      const poll = call(r.url, 'GET', '/agents/v1/instructions?waitMs=10000', { token: agent.credential })
      // Enqueue only once the poll found nothing and waits for a wake-up.
      await isParked
      const inst = await enqueue(r, { pool: 'web', input: { service: 'nginx' } })
      const got = await poll
      expect(got.status).toBe(200)
      expect(got.body.instructions).toHaveLength(1)
      const i = got.body.instructions[0]
      expect(i).toMatchObject({
        id: inst.id,
        attempt: 1,
        plugin: '@acme/restart',
        operation: 'run',
        input: { service: 'nginx' },
      })
      expect(Date.parse(i.leaseUntil)).toBeGreaterThan(Date.now())

      const acc = await call(r.url, 'POST', `/agents/v1/instructions/${i.id}/accept`, {
        token: agent.credential,
        body: { attempt: 1 },
      })
      expect(acc.status).toBe(200)
      expect(acc.body.cancel).toBe(false)

      const result = { attempt: 1, status: 'succeeded', output: { restarted: true } }
      const first = await call(r.url, 'POST', `/agents/v1/instructions/${i.id}/result`, {
        token: agent.credential,
        body: result,
      })
      expect(first.status).toBe(200)
      expect(first.body).toEqual({
        instructionId: i.id,
        attempt: 1,
        instructionStatus: 'succeeded',
        willRetry: false,
      })
      // A repeat gets the same answer and changes nothing.
      const again = await call(r.url, 'POST', `/agents/v1/instructions/${i.id}/result`, {
        token: agent.credential,
        body: { ...result, output: { restarted: false } },
      })
      expect(again.status).toBe(200)
      expect(again.body).toEqual(first.body)
      const seen = await call(r.operatorUrl, 'GET', `/api/v1/instructions/${i.id}`, { token: r.admin })
      expect(seen.body).toMatchObject({ status: 'succeeded', output: { restarted: true }, attempt: 1 })
    })

    it('answers a poll at once when work is already queued, and empty after the wait', async () => {
      const r = await setup.start()
      const agent = await enroll(r, 'action', 'db')
      const inst = await enqueue(r, { pool: 'db' })
      const got = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=20000', {
        token: agent.credential,
      })
      expect(got.body.instructions.map((x: { id: string }) => x.id)).toEqual([inst.id])
      const t0 = Date.now()
      const empty = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=300', {
        token: agent.credential,
      })
      expect(empty.status).toBe(200)
      expect(empty.body).toEqual({ instructions: [], drain: false, cancel: [] })
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250)
    })

    it('keeps sensor agents away from action work and every agent inside its pool and organization', async () => {
      const r = await setup.start()
      const sensor = await enroll(r, 'sensor', 'web')
      const otherPool = await enroll(r, 'action', 'db')
      const other = await r.o.services.tenancy.createOrganization('other-org')
      const foreign = await enroll(r, 'action', 'web', { token: other.adminToken })
      const inst = await enqueue(r, { pool: 'web' })
      for (const a of [sensor, otherPool, foreign]) {
        const got = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=300', { token: a.credential })
        expect(got.body.instructions).toEqual([])
      }
      // The other organization cannot read it either.
      const peek = await call(r.operatorUrl, 'GET', `/api/v1/instructions/${inst.id}`, {
        token: other.adminToken,
      })
      expect(peek.status).toBe(404)
      const mine = await enroll(r, 'action', 'web')
      const got = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=2000', { token: mine.credential })
      expect(got.body.instructions.map((x: { id: string }) => x.id)).toEqual([inst.id])
      // Foreign agents cannot report on it.
      const forged = await call(r.url, 'POST', `/agents/v1/instructions/${inst.id}/result`, {
        token: foreign.credential,
        body: { attempt: 1, status: 'succeeded' },
      })
      expect(forged.status).toBe(409)
      expect(forged.body.error.code).toBe('STAVILY_ERR_INSTRUCTION_NOT_HELD')
    })

    it('retries a failed attempt with backoff on another poll, then dead-letters it past the limit', async () => {
      const r = await setup.start()
      const a = await enroll(r, 'action', 'flaky')
      const b = await enroll(r, 'action', 'flaky')
      const inst = await enqueue(r, { pool: 'flaky', retryLimit: 1 })
      const p1 = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=5000', { token: a.credential })
      expect(p1.body.instructions[0].attempt).toBe(1)
      const f1 = await call(r.url, 'POST', `/agents/v1/instructions/${inst.id}/result`, {
        token: a.credential,
        body: { attempt: 1, status: 'failed', error: { code: 'E_BUSY', message: 'busy' } },
      })
      expect(f1.body).toMatchObject({ instructionStatus: 'queued', willRetry: true })
      const p2 = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=10000', { token: b.credential })
      expect(p2.body.instructions[0]).toMatchObject({ id: inst.id, attempt: 2 })
      // The first attempt's holder cannot report any more.
      const late = await call(r.url, 'POST', `/agents/v1/instructions/${inst.id}/result`, {
        token: a.credential,
        body: { attempt: 2, status: 'succeeded' },
      })
      expect(late.status).toBe(409)
      const f2 = await call(r.url, 'POST', `/agents/v1/instructions/${inst.id}/result`, {
        token: b.credential,
        body: { attempt: 2, status: 'failed', error: { code: 'E_BUSY', message: 'still busy' } },
      })
      expect(f2.body).toMatchObject({ instructionStatus: 'failed', willRetry: false })
      const seen = await call(r.operatorUrl, 'GET', `/api/v1/instructions/${inst.id}`, { token: r.admin })
      expect(seen.body).toMatchObject({ status: 'failed', attempt: 2, error: { code: 'E_BUSY' } })
    })

    it('fails at once, without retries, when the plugin says the error is not retryable', async () => {
      const r = await setup.start()
      const a = await enroll(r, 'action', 'x')
      const inst = await enqueue(r, { pool: 'x', retryLimit: 5 })
      await call(r.url, 'GET', '/agents/v1/instructions?waitMs=3000', { token: a.credential })
      const f = await call(r.url, 'POST', `/agents/v1/instructions/${inst.id}/result`, {
        token: a.credential,
        body: {
          attempt: 1,
          status: 'failed',
          error: { code: 'E_BAD_INPUT', message: 'no such service', retryable: false },
        },
      })
      expect(f.body).toMatchObject({ instructionStatus: 'failed', willRetry: false })
    })

    it('retries an instruction on another agent when the lease of its holder runs out', async () => {
      const r = await setup.start({ tuning: { leaseTtlMs: 800 } })
      const dying = await enroll(r, 'action', 'lease')
      const healthy = await enroll(r, 'action', 'lease')
      const inst = await enqueue(r, { pool: 'lease' })
      const p1 = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=3000', { token: dying.credential })
      expect(p1.body.instructions[0].id).toBe(inst.id)
      // The holder goes silent; the other agent gets a later attempt after the lease and the
      // backoff. Not always attempt 2: work claimed for a poll that ends at that moment is
      // handed back, and pg-boss counts that pickup as an attempt (Dispatcher.handBack); a
      // long poll makes that rare, and what is checked is that this agent gets the retry.
      const p2 = await until(async () => {
        const g = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=10000', {
          token: healthy.credential,
        })
        return g.body.instructions[0]
      })
      expect(p2.id).toBe(inst.id)
      expect(p2.attempt).toBeGreaterThan(1)
      const late = await call(r.url, 'POST', `/agents/v1/instructions/${inst.id}/result`, {
        token: dying.credential,
        body: { attempt: 1, status: 'succeeded' },
      })
      expect(late.status).toBe(409)
      const ok = await call(r.url, 'POST', `/agents/v1/instructions/${inst.id}/result`, {
        token: healthy.credential,
        body: { attempt: p2.attempt, status: 'succeeded' },
      })
      expect(ok.body.instructionStatus).toBe('succeeded')
    })

    it('signals cancel and drain in heartbeat and poll answers', async () => {
      const r = await setup.start()
      const a = await enroll(r, 'action', 'c')
      const inst = await enqueue(r, { pool: 'c' })
      await call(r.url, 'GET', '/agents/v1/instructions?waitMs=3000', { token: a.credential })
      const c = await call(r.operatorUrl, 'POST', `/api/v1/instructions/${inst.id}/cancel`, {
        token: r.admin,
      })
      expect(c.body.cancelRequested).toBe(true)
      const hb = await call(r.url, 'POST', '/agents/v1/heartbeat', { token: a.credential, body: {} })
      expect(hb.body.cancel).toEqual([{ id: inst.id, attempt: 1 }])
      const done = await call(r.url, 'POST', `/agents/v1/instructions/${inst.id}/result`, {
        token: a.credential,
        body: { attempt: 1, status: 'cancelled' },
      })
      expect(done.body.instructionStatus).toBe('cancelled')
      // A queued instruction is cancelled at once and never handed out.
      const queued = await enqueue(r, { pool: 'c' })
      await call(r.operatorUrl, 'POST', `/api/v1/instructions/${queued.id}/cancel`, { token: r.admin })
      const d = await call(r.operatorUrl, 'POST', `/api/v1/agents/${a.id}/drain`, {
        token: r.admin,
        body: { drain: true },
      })
      expect(d.body.drain).toBe(true)
      const hb2 = await call(r.url, 'POST', '/agents/v1/heartbeat', { token: a.credential, body: {} })
      expect(hb2.body).toMatchObject({ drain: true, cancel: [] })
      await call(r.operatorUrl, 'POST', `/api/v1/agents/${a.id}/drain`, {
        token: r.admin,
        body: { drain: false },
      })
      const p = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=300', { token: a.credential })
      expect(p.body).toEqual({ instructions: [], drain: false, cancel: [] })
      expect(
        (await call(r.operatorUrl, 'GET', `/api/v1/instructions/${queued.id}`, { token: r.admin })).body
          .status,
      ).toBe('cancelled')
    })

    it('stores events from sensor agents before acknowledging, once per dedupe key', async () => {
      const r = await setup.start()
      const s = await enroll(r, 'sensor', 'mon')
      const a = await enroll(r, 'action', 'mon')
      const ev = {
        source: 'prometheus',
        type: 'alert.firing',
        data: { alert: 'HighLoad' },
        dedupeKey: 'HighLoad@1',
      }
      const first = await call(r.url, 'POST', '/agents/v1/events', {
        token: s.credential,
        body: { events: [ev, { source: 'prometheus', type: 'x' }] },
      })
      expect(first.status).toBe(202)
      expect(first.body.duplicates).toBe(0)
      const again = await call(r.url, 'POST', '/agents/v1/events', {
        token: s.credential,
        body: { events: [ev] },
      })
      expect(again.body).toEqual({ ids: [first.body.ids[0]], duplicates: 1 })
      const { rows } = await r.o.services.db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM events')
      expect(rows[0]!.n).toBe(2)
      const refused = await call(r.url, 'POST', '/agents/v1/events', {
        token: a.credential,
        body: { events: [ev] },
      })
      expect(refused.status).toBe(403)
    })

    it('rotates and revokes credentials, and refuses used-up or expired enrollment tokens', async () => {
      const r = await setup.start()
      const et = await call(r.operatorUrl, 'POST', '/api/v1/enrollment-tokens', {
        token: r.admin,
        body: { kind: 'action', pool: 'p', uses: 1 },
      })
      const reg = await call(r.url, 'POST', '/agents/v1/register', {
        body: { enrollmentToken: et.body.token, name: 'a1' },
      })
      expect(reg.status).toBe(201)
      const replay = await call(r.url, 'POST', '/agents/v1/register', {
        body: { enrollmentToken: et.body.token, name: 'a2' },
      })
      expect(replay.status).toBe(401)
      expect(replay.body.error).toMatchObject({
        code: 'STAVILY_ERR_ENROLLMENT_INVALID',
        field: 'enrollmentToken',
      })
      await r.o.services.db.sql.query(`UPDATE enrollment_tokens SET expires_at = now() - interval '1 second'`)
      const et2 = await call(r.operatorUrl, 'POST', '/api/v1/enrollment-tokens', {
        token: r.admin,
        body: { kind: 'action', pool: 'p', uses: 5 },
      })
      await r.o.services.db.sql.query(
        `UPDATE enrollment_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [et2.body.id],
      )
      expect(
        (
          await call(r.url, 'POST', '/agents/v1/register', {
            body: { enrollmentToken: et2.body.token, name: 'a3' },
          })
        ).status,
      ).toBe(401)

      const old = reg.body.credential
      const rot = await call(r.url, 'POST', '/agents/v1/credential/rotate', { token: old })
      expect(rot.status).toBe(200)
      expect((await call(r.url, 'POST', '/agents/v1/heartbeat', { token: old, body: {} })).status).toBe(401)
      expect(
        (await call(r.url, 'POST', '/agents/v1/heartbeat', { token: rot.body.credential, body: {} })).status,
      ).toBe(200)
      const rev = await call(r.operatorUrl, 'POST', `/api/v1/agents/${reg.body.agentId}/revoke`, {
        token: r.admin,
      })
      expect(rev.body.status).toBe('revoked')
      const after = await call(r.url, 'POST', '/agents/v1/heartbeat', {
        token: rot.body.credential,
        body: {},
      })
      expect(after.status).toBe(401)
      expect(after.body.error.code).toBe('STAVILY_ERR_AGENT_REVOKED')
    })

    it('returns the desired plugin set of the agent pool', async () => {
      const r = await setup.start()
      const a = await enroll(r, 'action', 'web')
      await r.o.services.db.sql.query(
        `INSERT INTO desired_plugins (org_id, pool, name, version, digest, signature, permissions)
         VALUES ($1, 'web', '@acme/restart', '1.2.0', 'sha256:ab', 'sig', '{"exec":["systemctl"]}'),
                ($1, 'db', '@acme/backup', '1.0.0', 'sha256:cd', 'sig', '{}')`,
        [a.orgId],
      )
      const got = await call(r.url, 'GET', '/agents/v1/plugins', { token: a.credential })
      expect(got.body).toEqual({
        pool: 'web',
        plugins: [
          {
            name: '@acme/restart',
            version: '1.2.0',
            digest: 'sha256:ab',
            signature: 'sig',
            permissions: { exec: ['systemctl'] },
          },
        ],
        // An action agent runs no sensors.
        sensors: [],
      })
    })

    it('retries elsewhere, before its lease ends, the work of an agent marked lost', async () => {
      const a = await setup.start({ tuning: { lostAfterMs: 2_000, leaseTtlMs: 60_000 } })
      const b = await a.twin()
      expect(b.url).not.toBe(a.url)
      const dead = await enroll(a, 'action', 'lost')
      const alive = await enroll(b, 'action', 'lost')
      const inst = await enqueue(a, { pool: 'lost' })
      // Seen just before it takes the work (a poll is not a sign of life), so it is online
      // when it gets it, however long the set-up took on a busy machine.
      await call(a.url, 'POST', '/agents/v1/heartbeat', { token: dead.credential, body: {} })
      const got = await call(a.url, 'GET', '/agents/v1/instructions?waitMs=5000', { token: dead.credential })
      expect(got.body.instructions[0].id).toBe(inst.id)
      // `dead` never heartbeats again; `alive` does, and polls B.
      const beat = setInterval(
        () => void call(b.url, 'POST', '/agents/v1/heartbeat', { token: alive.credential, body: {} }),
        150,
      )
      try {
        const retried = await until(
          async () => {
            const g = await call(b.url, 'GET', '/agents/v1/instructions?waitMs=10000', {
              token: alive.credential,
            })
            return g.body.instructions[0]
          },
          30_000,
          'retry on the live agent',
        )
        // A later attempt, 2 unless a pickup was handed back (see the lease test above).
        expect(retried.id).toBe(inst.id)
        expect(retried.attempt).toBeGreaterThan(1)
      } finally {
        clearInterval(beat)
      }
      const agents = await call(a.operatorUrl, 'GET', '/api/v1/agents', { token: a.admin })
      const byId = Object.fromEntries(
        agents.body.items.map((x: { id: string; status: string }) => [x.id, x.status]),
      )
      expect(byId[dead.id]).toBe('lost')
    })

    it('fails a step attempt that runs past its timeout, though its agent still holds the lease', async () => {
      // The lease outlasts the test: only the step's own timeout can end this attempt.
      const r = await setup.start({ tuning: { leaseTtlMs: 60_000 } })
      const agent = await enroll(r, 'action', 'slow')
      await enablePlugin(r, agent.orgId, 'slow', '@acme/slow', '1.0.0')
      await r.o.services.secrets.set(agent.orgId, 'HOOK_KEY', HOOK_SECRET)
      const { workflow } = await r.o.services.workflows.apply(
        agent.orgId,
        `
name: timeboxed
trigger: { webhook: { secret: HOOK_KEY } }
actions:
  - { id: slow, plugin: "@acme/slow", version: ^1, pool: slow, timeout: 1s, retry: { limit: 0 } }
`,
        SYSTEM,
      )
      const { runId } = await deliver(r, workflow.id, {})
      // Before the poll that leases it: the step's clock starts at the lease.
      const started = Date.now()
      const got = await until(async () => {
        const g = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=2000', { token: agent.credential })
        return g.body.instructions[0]
      })
      const acc = await call(r.url, 'POST', `/agents/v1/instructions/${got.id}/accept`, {
        token: agent.credential,
        body: { attempt: got.attempt },
      })
      expect(acc.status).toBe(200)
      // The agent keeps beating (its lease stays good) and never answers.
      const beat = setInterval(
        () => void call(r.url, 'POST', '/agents/v1/heartbeat', { token: agent.credential, body: {} }),
        200,
      )
      try {
        const run = await runDone(r, agent.orgId, runId!, 15_000)
        expect(Date.now() - started).toBeGreaterThanOrEqual(1_000)
        expect(run.status).toBe('timed_out')
        const full = await r.o.services.runs.get(agent.orgId, runId!)
        expect(full.steps[0], JSON.stringify(full.steps[0])).toMatchObject({
          stepId: 'slow',
          error: { code: 'STAVILY_ERR_STEP_TIMEOUT' },
        })
      } finally {
        clearInterval(beat)
      }
      const late = await call(r.url, 'POST', `/agents/v1/instructions/${got.id}/result`, {
        token: agent.credential,
        body: { attempt: got.attempt, status: 'succeeded' },
      })
      expect(late.status).toBe(409)
    })

    it('marks no agent lost during the grace period after a start', async () => {
      const r = await setup.start({ tuning: { lostAfterMs: 300, restartGraceMs: 60_000 } })
      const a = await enroll(r, 'action', 'grace')
      await sleep(1_200)
      const agents = await call(r.operatorUrl, 'GET', '/api/v1/agents', { token: r.admin })
      expect(agents.body.items.find((x: { id: string }) => x.id === a.id).status).toBe('online')
    })

    it('hands back at once work claimed for a poll that went away, without using up an attempt', async () => {
      const r = await setup.start()
      const a = await enroll(r, 'action', 'back')
      const b = await enroll(r, 'action', 'back')
      // One attempt only: a pickup no agent received must not take it.
      const inst = await enqueue(r, { pool: 'back', retryLimit: 0 })
      const { dispatcher, agents } = r.o.services
      const agentA = await agents.authenticate(a.credential)
      const queue = (await dispatcher.get(a.orgId, inst.id)).queue
      const credentialHash = hashSecret(a.credential).toString('hex')
      for (const key of [1, 2]) {
        const { got } = await dispatcher.claim(queue, [{ key, agent: agentA!, credentialHash, max: 1 }])
        expect(got.get(key)?.[0]).toMatchObject({ id: inst.id, attempt: 1 })
        await dispatcher.handBack(queue, [inst.id])
        expect((await dispatcher.get(a.orgId, inst.id)).status).toBe('queued')
      }
      const p = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=3000', { token: b.credential })
      expect(p.body.instructions[0]).toMatchObject({ id: inst.id, attempt: 1 })
      const res = await call(r.url, 'POST', `/agents/v1/instructions/${inst.id}/result`, {
        token: b.credential,
        body: { attempt: 1, status: 'succeeded', output: { ok: true } },
      })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect((await dispatcher.get(a.orgId, inst.id)).status).toBe('succeeded')
    })
  })
}
