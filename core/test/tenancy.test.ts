import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, enqueue, enroll, type Running, setups } from './helpers/harness.ts'

// No API call reaches another organization's data: every route, tried with a token or
// credential of organization B against organization A's objects.

describe.each(setups())('tenancy ($name)', (setup) => {
  let r: Running
  let bAdmin: string
  let aAgent: { id: string; credential: string }
  let bAgent: { id: string; credential: string }
  let aInst: string
  beforeAll(async () => {
    r = await setup.start()
    bAdmin = (await r.o.services.tenancy.createOrganization('org-b')).adminToken
    aAgent = await enroll(r, 'action', 'web')
    bAgent = await enroll(r, 'action', 'web', { token: bAdmin })
    aInst = (await enqueue(r, { pool: 'web' })).id
    // A's agent holds A's instruction.
    const got = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=3000', { token: aAgent.credential })
    expect(got.body.instructions[0].id).toBe(aInst)
  })
  afterAll(() => setup.cleanup())

  it('operator routes of B see none of A', async () => {
    const seen = await call(r.operatorUrl, 'GET', '/api/v1/agents', { token: bAdmin })
    expect(seen.body.items.map((a: { id: string }) => a.id)).toEqual([bAgent.id])
    for (const [method, path, body] of [
      ['GET', `/api/v1/instructions/${aInst}`, undefined],
      ['POST', `/api/v1/instructions/${aInst}/cancel`, undefined],
      ['POST', `/api/v1/agents/${aAgent.id}/revoke`, undefined],
      ['POST', `/api/v1/agents/${aAgent.id}/drain`, { drain: true }],
    ] as const) {
      const res = await call(r.operatorUrl, method, path, { token: bAdmin, ...(body ? { body } : {}) })
      expect(res.status, `${method} ${path}`).toBe(404)
    }
    // Nothing changed in A.
    const inst = await call(r.operatorUrl, 'GET', `/api/v1/instructions/${aInst}`, { token: r.admin })
    expect(inst.body).toMatchObject({ status: 'leased', cancelRequested: false })
    const agents = await call(r.operatorUrl, 'GET', '/api/v1/agents', { token: r.admin })
    expect(agents.body.items.find((a: { id: string }) => a.id === aAgent.id)).toMatchObject({
      status: 'online',
      drain: false,
    })
  })

  it('agents of B cannot accept, report on or see work of A', async () => {
    const acc = await call(r.url, 'POST', `/agents/v1/instructions/${aInst}/accept`, {
      token: bAgent.credential,
      body: { attempt: 1 },
    })
    expect(acc.status).toBe(409)
    const res = await call(r.url, 'POST', `/agents/v1/instructions/${aInst}/result`, {
      token: bAgent.credential,
      body: { attempt: 1, status: 'succeeded' },
    })
    expect(res.status).toBe(409)
    const poll = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=200', { token: bAgent.credential })
    expect(poll.body.instructions).toEqual([])
    await r.o.services.db.sql.query(
      `INSERT INTO desired_plugins (org_id, pool, name, version, digest, signature)
       SELECT org_id, 'web', '@a/secret', '1.0.0', 'd', 's' FROM agents WHERE id = $1`,
      [aAgent.id],
    )
    const plugins = await call(r.url, 'GET', '/agents/v1/plugins', { token: bAgent.credential })
    expect(plugins.body.plugins).toEqual([])
    const inst = await call(r.operatorUrl, 'GET', `/api/v1/instructions/${aInst}`, { token: r.admin })
    expect(inst.body).toMatchObject({ status: 'leased', agentId: aAgent.id })
  })

  it('B enrollment tokens enroll into B only, and dedupe keys are per organization', async () => {
    const aSensor = await enroll(r, 'sensor', 'mon')
    const bSensor = await enroll(r, 'sensor', 'mon', { token: bAdmin })
    const ev = { source: 's', type: 't', dedupeKey: 'same' }
    const a = await call(r.url, 'POST', '/agents/v1/events', {
      token: aSensor.credential,
      body: { events: [ev] },
    })
    const b = await call(r.url, 'POST', '/agents/v1/events', {
      token: bSensor.credential,
      body: { events: [ev] },
    })
    expect(a.body.duplicates).toBe(0)
    expect(b.body.duplicates).toBe(0)
    expect(a.body.ids[0]).not.toBe(b.body.ids[0])
  })
})
