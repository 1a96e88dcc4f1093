import { afterAll, describe, expect, it } from 'vitest'
import { call, enqueue, enroll, setups, sleep, until } from './helpers/harness.ts'
import { ownRedis } from './helpers/redis-server.ts'

// Several orchestrator instances over one PostgreSQL and one Redis. Needs DATABASE_URL
// (PGlite is one process's database; instances cannot share it).

const pg = setups({ pglite: false })
const describeCluster = pg.length > 0 && process.env.REDIS_URL ? describe : describe.skip

describeCluster('two orchestrator instances on one database and Redis', () => {
  const setup = pg[0]!
  const cleanups: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c()
    await setup.cleanup()
  })

  it('wakes an agent long-polling instance A with work enqueued through instance B, at once', async () => {
    // Re-checks are rare here, so only a wake-up through Redis can answer the poll quickly.
    const a = await setup.start({ tuning: { recheckMs: 60_000, recheckDegradedMs: 60_000 } })
    const b = await a.twin()
    const agent = await enroll(a, 'action', 'web')
    const t0 = Date.now()
    const poll = call(a.url, 'GET', '/agents/v1/instructions?waitMs=20000', { token: agent.credential })
    await until(async () => a.o.services.polls.parked === 1, 5_000, 'poll parked on A')
    const inst = await enqueue(b, { pool: 'web' })
    const got = await poll
    expect(got.body.instructions.map((i: { id: string }) => i.id)).toEqual([inst.id])
    // Far below the 20 s hold and the 60 s re-check: it was the wake-up.
    expect(Date.now() - t0).toBeLessThan(10_000)
    // A result reported to B for work handed out by A is accepted.
    const res = await call(b.url, 'POST', `/agents/v1/instructions/${inst.id}/result`, {
      token: agent.credential,
      body: { attempt: 1, status: 'succeeded' },
    })
    expect(res.body.instructionStatus).toBe('succeeded')
  })

  it('keeps work flowing when Redis stops mid-test, says so in /readyz, and recovers', async () => {
    const redis = await ownRedis()
    cleanups.push(() => redis.close())
    const a = await setup.start({
      redis: { url: redis.url, prefix: 'stop:' },
      tuning: { recheckMs: 60_000, recheckDegradedMs: 200 },
    })
    // B remembers credentials for 10 minutes: only what it hears (or fails to) can end that.
    const b = await a.twin({ tuning: { agentAuthCacheMs: 600_000 } })
    const agent = await enroll(a, 'action', 'web')
    const doomed = await enroll(a, 'action', 'web')
    expect((await call(b.url, 'GET', '/agents/v1/plugins', { token: doomed.credential })).status).toBe(200)
    expect(b.o.services.agents.rememberedCredentials).toBe(1)
    expect((await call(a.url, 'GET', '/readyz')).body).toMatchObject({ status: 'ready', dispatch: 'push' })

    await redis.stop()
    await until(async () => !a.o.services.fleet.healthy(), 10_000, 'fleet notices Redis is gone')
    const ready = await call(a.url, 'GET', '/readyz')
    expect(ready.status).toBe(200)
    expect(ready.body).toMatchObject({
      status: 'degraded',
      dispatch: 'polling',
      fleet: { backend: 'redis', healthy: false },
    })

    // Enqueued through B, picked up by the agent parked on A by polling PostgreSQL.
    for (let n = 0; n < 3; n++) {
      const poll = call(a.url, 'GET', '/agents/v1/instructions?waitMs=20000', { token: agent.credential })
      await sleep(100)
      const inst = await enqueue(b, { pool: 'web' })
      const got = await poll
      expect(got.body.instructions.map((i: { id: string }) => i.id)).toEqual([inst.id])
      const res = await call(a.url, 'POST', `/agents/v1/instructions/${inst.id}/result`, {
        token: agent.credential,
        body: { attempt: 1, status: 'succeeded' },
      })
      expect(res.status).toBe(200)
    }
    // Rate limits and heartbeats keep answering without Redis.
    expect(
      (await call(a.url, 'POST', '/agents/v1/heartbeat', { token: agent.credential, body: {} })).status,
    ).toBe(200)
    // Revoked through A while no announcement can reach B: B, which remembered the
    // credential, reads PostgreSQL while Redis is down, and refuses it at once.
    await call(a.operatorUrl, 'POST', `/api/v1/agents/${doomed.id}/revoke`, { token: a.admin })
    // (GET /plugins, as no statement of its own checks the agent there: only authentication.)
    const refused = await call(b.url, 'GET', '/agents/v1/plugins', { token: doomed.credential })
    expect(refused.status).toBe(401)
    expect(refused.body.error.code).toBe('STAVILY_ERR_AGENT_REVOKED')

    await redis.start()
    await until(
      async () => a.o.services.fleet.healthy() && b.o.services.fleet.healthy(),
      15_000,
      'fleet reconnects',
    )
    expect((await call(a.url, 'GET', '/readyz')).body.status).toBe('ready')
  })

  it('ends on B, at once, a credential B remembered when A revokes, rotates or drains its agent', async () => {
    const a = await setup.start()
    // B remembers credentials for 10 minutes: only the announcements can end that.
    const b = await a.twin({ tuning: { agentAuthCacheMs: 600_000 } })
    const agent = await enroll(a, 'action', 'web')
    // GET /plugins: only authentication checks the agent there (a heartbeat's own statement refuses a revoked one).
    const onB = (token: string) => call(b.url, 'GET', '/agents/v1/plugins', { token })
    const pollOnB = (token: string) => call(b.url, 'GET', '/agents/v1/instructions?waitMs=100', { token })
    expect((await pollOnB(agent.credential)).body.drain).toBe(false)
    expect(b.o.services.agents.rememberedCredentials).toBe(1)

    await call(a.operatorUrl, 'POST', `/api/v1/agents/${agent.id}/drain`, {
      token: a.admin,
      body: { drain: true },
    })
    await until(async () => (await pollOnB(agent.credential)).body.drain === true, 5_000, 'B sees the drain')
    await call(a.operatorUrl, 'POST', `/api/v1/agents/${agent.id}/drain`, {
      token: a.admin,
      body: { drain: false },
    })
    await until(async () => (await pollOnB(agent.credential)).body.drain === false, 5_000, 'B sees it undone')

    const rotated = await call(a.url, 'POST', '/agents/v1/credential/rotate', { token: agent.credential })
    expect(rotated.status).toBe(200)
    await until(
      async () => (await onB(agent.credential)).status === 401,
      5_000,
      'B refuses the old credential',
    )
    expect((await onB(rotated.body.credential)).status).toBe(200)

    await call(a.operatorUrl, 'POST', `/api/v1/agents/${agent.id}/revoke`, { token: a.admin })
    await until(
      async () => (await onB(rotated.body.credential)).body.error?.code === 'STAVILY_ERR_AGENT_REVOKED',
      5_000,
      'B refuses the revoked agent',
    )
  })
})
