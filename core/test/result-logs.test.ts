import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
  })
}
