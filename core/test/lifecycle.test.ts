import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, enqueue, enroll, setups, until } from './helpers/harness.ts'

for (const setup of setups()) {
  describe(`health, metrics and shutdown on ${setup.name}`, () => {
    beforeAll(() => setup.prepare())
    afterAll(() => setup.cleanup())

    it('reports liveness, readiness and Prometheus metrics', async () => {
      const r = await setup.start()
      expect((await call(r.url, 'GET', '/healthz')).body).toEqual({ status: 'ok' })
      const ready = await call(r.url, 'GET', '/readyz')
      expect(ready.status).toBe(200)
      expect(ready.body).toMatchObject({
        status: 'ready',
        database: 'ok',
        dispatch: 'push',
        shuttingDown: false,
      })
      const a = await enroll(r, 'action', 'm')
      await call(r.url, 'POST', '/agents/v1/heartbeat', { token: a.credential, body: {} })
      await enqueue(r, { pool: 'm' })
      await enqueue(r, { pool: 'm' })
      const got = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=2000', { token: a.credential })
      await call(r.url, 'POST', `/agents/v1/instructions/${got.body.instructions[0].id}/result`, {
        token: a.credential,
        body: { attempt: 1, status: 'succeeded' },
      })
      const m = await call(r.operatorUrl, 'GET', '/metrics')
      expect(m.status).toBe(200)
      expect(m.headers.get('content-type')).toContain('text/plain')
      const text = m.body as string
      expect(text).toContain(`stavily_queue_depth{org="${a.orgId}",kind="action",pool="m"} 1`)
      expect(text).toContain('stavily_agents{status="online"} 1')
      expect(text).toContain('stavily_agents_online 1')
      expect(text).toContain('stavily_results_total{status="succeeded"} 1')
      expect(text).toMatch(/stavily_pickup_latency_seconds_count 1\n/)
    })

    it('serves the two APIs on separate listeners when asked to', async () => {
      const r = await setup.start({ operatorListen: { host: '127.0.0.1', port: 0 } })
      expect(r.url).not.toBe(r.operatorUrl)
      expect(
        (await call(r.url, 'POST', '/api/v1/tokens', { token: r.admin, body: { name: 'x', role: 'viewer' } }))
          .status,
      ).toBe(404)
      expect(
        (
          await call(r.operatorUrl, 'POST', '/api/v1/tokens', {
            token: r.admin,
            body: { name: 'x', role: 'viewer' },
          })
        ).status,
      ).toBe(201)
      expect((await call(r.operatorUrl, 'POST', '/agents/v1/register', { body: {} })).status).toBe(404)
      expect((await call(r.url, 'GET', '/metrics')).status).toBe(404)
      await enroll(r, 'action', 'split')
    })

    it('shuts down gracefully: parked polls are answered at once, held leases survive for another instance', async () => {
      const r = await setup.start()
      const a = await enroll(r, 'action', 's')
      const b = await enroll(r, 'action', 's')
      const inst = await enqueue(r, { pool: 's' })
      const held = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=2000', { token: a.credential })
      expect(held.body.instructions[0].id).toBe(inst.id)
      const parked = call(r.url, 'GET', '/agents/v1/instructions?waitMs=30000', { token: b.credential })
      await until(async () => r.o.services.polls.parked === 1, 5_000, 'poll parked')
      const t0 = Date.now()
      const closing = r.o.close()
      const released = await parked
      expect(released.status).toBe(200)
      expect(released.body.instructions).toEqual([])
      expect(Date.now() - t0).toBeLessThan(10_000)
      await closing
      // Gone for good afterwards: the connection is refused.
      await expect(call(r.url, 'GET', '/healthz')).rejects.toThrow()
      // The instruction a held is still leased to it in the database (its result can go to another instance).
      const back = await r.twin()
      const res = await call(back.url, 'POST', `/agents/v1/instructions/${inst.id}/result`, {
        token: a.credential,
        body: { attempt: 1, status: 'succeeded' },
      })
      expect(res.body.instructionStatus).toBe('succeeded')
      await back.close()
    })

    it('refuses new long-polls with 503 once shutdown began', async () => {
      const r = await setup.start()
      const a = await enroll(r, 'action', 'z')
      r.o.services.lifecycle.closing = true
      const res = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=1000', { token: a.credential })
      expect(res.status).toBe(503)
      expect(res.body.error.code).toBe('STAVILY_ERR_SHUTTING_DOWN')
      expect((await call(r.url, 'GET', '/readyz')).status).toBe(503)
      r.o.services.lifecycle.closing = false
    })
  })
}
