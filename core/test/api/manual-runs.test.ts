import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, enroll, type Running, setups } from '../helpers/harness.ts'
import { type Actors, actors, webhookWorkflow } from './helpers.ts'

// Manual work: POST /workflows/{idOrName}/runs starts a run now with a given event (an
// operator's token; the "API call" trigger), its priority carried to its steps'
// instructions; a disabled workflow is refused, a false filter starts nothing, and the
// run is on the audit log with the calling token as actor.

describe.each(setups())('manual runs ($name)', (setup) => {
  let r: Running
  let a: Actors
  beforeAll(async () => {
    await setup.prepare()
    r = await setup.start()
    a = await actors(r)
    const applied = await call(r.operatorUrl, 'POST', '/api/v1/workflows', {
      token: r.admin,
      body: { document: webhookWorkflow() },
    })
    expect(applied.status, JSON.stringify(applied.body)).toBe(201)
    // The action's plugin is enabled in pool web (as the catalog would record it).
    await r.o.services.db.sql.query(
      `INSERT INTO desired_plugins (org_id, pool, name, version, digest, signature)
       SELECT org_id, 'web', '@acme/restart', '1.0.0', 'd', 's' FROM workflows WHERE name = 'restart-on-hook'`,
    )
  }, 60_000)
  afterAll(() => setup.cleanup())

  const start = (body: unknown, token = a.operator, name = 'restart-on-hook') =>
    call(r.operatorUrl, 'POST', `/api/v1/workflows/${name}/runs`, { token, body })

  it('starts a run with the event; its step is an instruction of that priority an agent picks up', async () => {
    const res = await start({ event: { data: { service: 'api' } }, priority: 42 })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body.run).toMatchObject({ status: 'running', priority: 42, workflowVersion: 1 })
    const runId = res.body.run.id
    const run = await call(r.operatorUrl, 'GET', `/api/v1/runs/${runId}`, { token: a.viewer })
    expect(run.body.event).toMatchObject({ source: 'manual', type: 'manual', data: { service: 'api' } })
    // The run shows its priority, in its detail and in the list.
    expect(run.body.priority).toBe(42)
    const listed = await call(r.operatorUrl, 'GET', '/api/v1/runs', { token: a.viewer })
    expect(listed.body.items.find((x: { id: string }) => x.id === runId)).toMatchObject({ priority: 42 })
    const agent = await enroll(r, 'action', 'web')
    const got = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=5000', { token: agent.credential })
    expect(got.body.instructions).toHaveLength(1)
    const inst = await call(r.operatorUrl, 'GET', `/api/v1/instructions/${got.body.instructions[0].id}`, {
      token: a.viewer,
    })
    expect(inst.body).toMatchObject({ plugin: '@acme/restart', priority: 42 })
    // A retry keeps the priority.
    const retried = await call(r.operatorUrl, 'POST', `/api/v1/runs/${runId}/retry`, { token: a.operator })
    expect(retried.status).toBe(201)
    expect(retried.body.priority).toBe(42)
    const { rows } = await r.o.services.db.sql.query<{ priority: number }>(
      'SELECT priority FROM instructions WHERE run_id = $1',
      [retried.body.id],
    )
    expect(rows.map((row) => row.priority)).toEqual([42])
    // On the audit log, by the operator's token.
    const audit = await call(r.operatorUrl, 'GET', '/api/v1/audit?action=run.queued', { token: r.admin })
    expect(audit.body.items.find((e: { target: { id: string } }) => e.target.id === runId)).toMatchObject({
      actor: { type: 'api_token', id: a.ids.operator },
    })
  })

  it("an operator cannot forge the event's type: another type is a 400 naming the field, and starts nothing", async () => {
    const before = await call(r.operatorUrl, 'GET', '/api/v1/runs?limit=100', { token: a.viewer })
    const forged = await start({ event: { type: 'alert.firing', data: { service: 'api' } } })
    expect(forged.status, JSON.stringify(forged.body)).toBe(400)
    expect(forged.body.error.field).toBe('body.event.type')
    expect(forged.body.error.message).toMatch(/"manual" or nothing.*event\.data, got "alert\.firing"/)
    const after = await call(r.operatorUrl, 'GET', '/api/v1/runs?limit=100', { token: a.viewer })
    expect(after.body.items).toHaveLength(before.body.items.length)
    // "manual" itself is what the platform sets anyway.
    const plain = await start({ event: { type: 'manual', data: { service: 'api' } } })
    expect(plain.status).toBe(201)
  })

  it('a false filter starts no run and says so', async () => {
    const res = await start({ event: { data: { service: 'ignored' } } })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ run: null, reason: 'filtered' })
  })

  it('refuses a disabled workflow (409), a viewer (403), an unknown workflow (404), a bad priority (400)', async () => {
    expect((await start({}, a.viewer)).status).toBe(403)
    expect((await start({}, a.operator, 'no-such-workflow')).status).toBe(404)
    const bad = await start({ priority: 1000 })
    expect(bad.status).toBe(400)
    expect(bad.body.error.field).toBe('body.priority')
    const off = await call(r.operatorUrl, 'POST', '/api/v1/workflows/restart-on-hook/disable', {
      token: a.operator,
    })
    expect(off.status).toBe(200)
    const refused = await start({ event: { data: { service: 'api' } } })
    expect(refused.status).toBe(409)
    expect(refused.body.error).toMatchObject({ code: 'STAVILY_ERR_WORKFLOW_DISABLED' })
    expect(refused.body.error.message).toMatch(/restart-on-hook: is disabled; enable it first/)
    // Another organization's token does not see the workflow at all.
    expect((await start({}, a.other)).status).toBe(404)
  })
})
