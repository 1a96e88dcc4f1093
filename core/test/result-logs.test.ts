import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webhookWorkflow } from './api/helpers.ts'
import { call, enqueue, enroll, setups } from './helpers/harness.ts'

// The orchestrator's side of "logs are clipped, not refused": a result from an agent that
// does not clip its logs (an older one, or another implementation of the protocol) is
// stored with its logs cut to the per-result budget and a marker line, and one with no
// logs at all (agents before logs existed) shows an empty list.

for (const setup of setups()) {
  describe(`result logs on ${setup.name}`, () => {
    beforeAll(() => setup.prepare())
    afterAll(() => setup.cleanup())

    async function report(body: Record<string, unknown>) {
      const r = await setup.start()
      const agent = await enroll(r, 'action', 'web')
      const inst = await enqueue(r, { pool: 'web' })
      const poll = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=5000', {
        token: agent.credential,
      })
      const i = poll.body.instructions[0]
      expect(i.id).toBe(inst.id)
      const res = await call(r.url, 'POST', `/agents/v1/instructions/${i.id}/result`, {
        token: agent.credential,
        body: { attempt: 1, status: 'succeeded', output: { ok: true }, ...body },
      })
      const got = await call(r.operatorUrl, 'GET', `/api/v1/instructions/${i.id}`, { token: r.admin })
      return { status: res.status, instruction: got.body }
    }

    it('keeps the first lines of an oversized list and says how many were left out', async () => {
      const logs = Array.from({ length: 2_500 }, (_, n) => ({
        level: 'info',
        message: `line ${n}`,
        at: 1_000 + n,
      }))
      const { status, instruction } = await report({ logs })
      expect(status).toBe(200)
      expect(instruction.status).toBe('succeeded')
      expect(instruction.logs).toHaveLength(2_000)
      expect(instruction.logs[0]).toEqual({
        attempt: 1,
        level: 'info',
        message: 'line 0',
        at: new Date(1_000).toISOString(),
        source: 'plugin',
      })
      expect(instruction.logs.at(-1)).toMatchObject({
        level: 'warn',
        message: expect.stringMatching(/^501 log lines left out: over the per-result limit/),
        fields: { clipped: 501 },
      })
    })

    it('shows no lines for a result that carries none', async () => {
      const { status, instruction } = await report({})
      expect(status).toBe(200)
      expect(instruction.logs).toEqual([])
    })

    it("caps a run's step logs in GET /runs/:id to the newest lines, counting what was left out", async () => {
      const r = await setup.start()
      const applied = await call(r.operatorUrl, 'POST', '/api/v1/workflows', {
        token: r.admin,
        body: { document: webhookWorkflow() },
      })
      expect(applied.status).toBe(201)
      await r.o.services.db.sql.query(
        `INSERT INTO desired_plugins (org_id, pool, name, version, digest, signature)
         SELECT org_id, 'web', '@acme/restart', '1.0.0', 'd', 's' FROM workflows WHERE name = 'restart-on-hook'`,
      )
      const started = await call(r.operatorUrl, 'POST', '/api/v1/workflows/restart-on-hook/runs', {
        token: r.admin,
        body: { event: { data: { service: 'api' } } },
      })
      expect(started.status, JSON.stringify(started.body)).toBe(201)
      const runId = started.body.run.id
      const { rows } = await r.o.services.db.sql.query<{ id: string }>(
        'SELECT id FROM instructions WHERE run_id = $1',
        [runId],
      )
      // Three attempts, each with a full per-result list of lines (as agents report them).
      const perAttempt = 2_000
      const message = 'x'.repeat(100)
      for (const attempt of [1, 2, 3]) {
        const logs = Array.from({ length: perAttempt }, (_, n) => ({
          level: 'info',
          message: `${attempt}:${n} ${message}`,
          at: attempt * 1_000_000 + n,
        }))
        await r.o.services.db.sql.query(
          `INSERT INTO results (instruction_id, attempt, agent_id, status, logs, answer)
           VALUES ($1, $2, gen_random_uuid(), 'failed', $3::jsonb, '{}'::jsonb)`,
          [rows[0]!.id, attempt, JSON.stringify(logs)],
        )
      }
      const res = await call(r.operatorUrl, 'GET', `/api/v1/runs/${runId}`, { token: r.admin })
      expect(res.status).toBe(200)
      const step = res.body.steps.find((x: { stepId: string }) => x.stepId === 'restart')
      // The newest lines, oldest first, ending with the last attempt's last line; no more
      // than one attempt's worth, and the count of what was cut.
      expect(step.logs.length).toBeGreaterThan(0)
      expect(step.logs.length).toBeLessThanOrEqual(perAttempt)
      expect(step.logs.at(-1).message).toBe(`3:${perAttempt - 1} ${message}`)
      expect(step.logsOmitted).toBe(3 * perAttempt - step.logs.length)
      expect(Buffer.byteLength(JSON.stringify(step.logs))).toBeLessThanOrEqual(262_144)
      // A step with nothing cut says 0; GET /instructions/:id still has every line.
      expect(res.body.steps.find((x: { stepId: string }) => x.stepId === 'notify')?.logsOmitted ?? 0).toBe(0)
      const inst = await call(r.operatorUrl, 'GET', `/api/v1/instructions/${rows[0]!.id}`, { token: r.admin })
      expect(inst.body.logs).toHaveLength(3 * perAttempt)
    })
  })
}
