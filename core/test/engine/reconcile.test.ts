import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Running, setups } from '../helpers/harness.ts'
import { enablePlugin, HOOK_SECRET, runDone, SYSTEM } from './fixtures.ts'
import { SimAgent } from './sim-agent.ts'

// What a crash leaves behind, made by hand in the database, and the reconcile pass (run
// on start and every few seconds) finishing it: a run that started but planned nothing, a
// step whose instruction finished while no engine saw it, a debounce window whose timer
// job was lost. Nothing is lost, nothing is done twice.

const doc = (name: string, extra = '') => `
name: ${name}
trigger: { webhook: { secret: HOOK_KEY } }
actions:
  - { id: one, plugin: "@acme/x", version: ^1, pool: rec, input: { v: "\${{ trigger.v }}" } }
${extra}`

for (const setup of setups()) {
  describe(`reconcile on ${setup.name}`, () => {
    let r: Running
    let agent: SimAgent
    let org: string

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start({ engine: { reconcileIntervalMs: 3_600_000 } })
      agent = await SimAgent.enroll(r, 'rec')
      org = agent.orgId
      await enablePlugin(r, org, 'rec', '@acme/x', '1.0.0')
      await r.o.services.secrets.set(org, 'HOOK_KEY', HOOK_SECRET)
    }, 60_000)
    afterAll(async () => {
      await agent?.stop()
      await setup.cleanup()
    })

    it('advances a started run that planned nothing, once', async () => {
      const { workflow } = await r.o.services.workflows.apply(org, doc('stalled'), SYSTEM)
      const sql = r.o.services.db.sql
      const id = randomUUID()
      // A crash between "run started" and its first step: a running run without steps.
      await sql.query(
        `INSERT INTO runs (id, org_id, workflow_id, workflow_version, status, event, started_at)
         VALUES ($1, $2, $3, 1, 'running', $4::jsonb, now() - interval '1 minute')`,
        [id, org, workflow.id, JSON.stringify({ type: 'webhook', data: { v: 7 } })],
      )
      await Promise.all([r.o.services.engine.reconcile(), r.o.services.engine.reconcile()])
      agent.start(() => ({ status: 'succeeded', output: { ok: true } }))
      const run = await runDone(r, org, id)
      expect(run.status).toBe('succeeded')
      expect(run.steps).toHaveLength(1)
      expect(agent.seen.filter((i) => i.runId === id)).toHaveLength(1)
    })

    it('records a step whose instruction finished while no engine saw it', async () => {
      await agent.stop()
      agent = await SimAgent.enroll(r, 'rec')
      const { workflow } = await r.o.services.workflows.apply(org, doc('missed'), SYSTEM)
      const run = (await r.o.services.engine.startRun(
        org,
        workflow.id,
        { type: 't', data: { v: 1 } },
        SYSTEM,
      ))!
      const sql = r.o.services.db.sql
      // An agent held it (step running), then the instruction finished behind the engine's
      // back (its hook lost in a crash).
      await sql.query(`UPDATE run_steps SET status = 'running', attempt = 1 WHERE run_id = $1`, [run.id])
      await sql.query(
        `UPDATE instructions SET status = 'succeeded', output = '{"late":true}', finished_at = now() WHERE run_id = $1`,
        [run.id],
      )
      await r.o.services.engine.reconcile()
      const done = await r.o.services.runs.get(org, run.id)
      expect(done.status).toBe('succeeded')
      expect(done.steps[0]).toMatchObject({ status: 'succeeded', output: { late: true } })
    })

    it('starts the run of a debounce window whose timer was lost', async () => {
      const { workflow } = await r.o.services.workflows.apply(
        org,
        doc('lost-timer', 'debounce: { window: 1h }'),
        SYSTEM,
      )
      await r.o.services.db.sql.query(
        `INSERT INTO workflow_windows (workflow_id, key, mode, closes_at, events, last_event)
         VALUES ($1, '', 'debounce', now() - interval '1 second', 3, $2::jsonb)`,
        [workflow.id, JSON.stringify({ type: 'webhook', data: { v: 'last' } })],
      )
      await r.o.services.engine.reconcile()
      await r.o.services.engine.reconcile()
      const runs = await r.o.services.runs.list(org, { workflow: 'lost-timer' })
      expect(runs).toHaveLength(1)
      expect(runs[0]!.event).toMatchObject({ data: { v: 'last' } })
      expect(await r.o.services.audit.verify(org)).toMatchObject({ ok: true })
    })
  })
}
