import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Running, setups, until } from '../helpers/harness.ts'
import { deliver, enablePlugin, HOOK_SECRET, runDone, SYSTEM } from './fixtures.ts'
import { SimAgent } from './sim-agent.ts'

// Operators cancel a run (its in-flight instruction is cancelled on the agent) and retry it
// (a new run of the same version with the same event); another organization can touch
// neither the workflow, its runs nor its webhook.

const doc = (name: string) => `
name: ${name}
trigger: { webhook: { secret: HOOK_KEY } }
actions:
  - { id: slow, plugin: "@acme/slow", version: ^1, pool: ops, input: { job: "\${{ trigger.job }}" } }
outputs:
  - { id: tell, plugin: "@acme/slow", version: ^1, pool: ops, on: always, input: { text: done } }
`

for (const setup of setups()) {
  describe(`cancel, retry and tenancy on ${setup.name}`, () => {
    let r: Running
    let agent: SimAgent
    let org: string
    let hold = true

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start()
      agent = await SimAgent.enroll(r, 'ops')
      org = agent.orgId
      await enablePlugin(r, org, 'ops', '@acme/slow', '1.0.0')
      await r.o.services.secrets.set(org, 'HOOK_KEY', HOOK_SECRET)
      agent.start((i) =>
        i.stepId === 'slow' && hold ? 'hold' : { status: 'succeeded', output: { ok: true } },
      )
    }, 60_000)
    afterAll(async () => {
      await agent?.stop()
      await setup.cleanup()
    })

    it('cancels a run and its in-flight instruction, then retries it on the same version and event', async () => {
      const { workflow } = await r.o.services.workflows.apply(org, doc('cancellable'), SYSTEM)
      const { runId } = await deliver(r, workflow.id, { job: 'backup' })
      await until(async () => agent.seen.some((i) => i.runId === runId), 15_000, 'the agent holds the step')
      const operator = { type: 'api_token' as const, id: 'tok-1', ip: '10.0.0.7' }
      const cancelled = await r.o.services.engine.cancelRun(org, runId!, operator)
      expect(cancelled.status).toBe('cancelled')
      const run = await r.o.services.runs.get(org, runId!)
      expect(run.steps.map((s) => [s.stepId, s.status])).toEqual([['slow', 'cancelled']])
      // The agent holding it learns at its next heartbeat.
      const beat = await agent.heartbeat()
      const held = agent.seen.find((i) => i.runId === runId)!
      expect(beat.body.cancel).toEqual([{ id: held.id, attempt: held.attempt }])
      await expect(r.o.services.engine.cancelRun(org, runId!, operator)).rejects.toMatchObject({
        code: 'STAVILY_ERR_RUN_FINISHED',
        statusCode: 409,
      })
      const [entry] = await r.o.services.audit.list(org, { action: 'run.cancelled', targetId: runId! })
      expect(entry).toMatchObject({ actor: { type: 'api_token', id: 'tok-1' }, ip: '10.0.0.7' })

      // The workflow changes; the retry still runs version 1 with the same event.
      await r.o.services.workflows.apply(org, doc('cancellable').replace('text: done', 'text: v2'), SYSTEM)
      hold = false
      const retried = await r.o.services.engine.retryRun(org, runId!, operator)
      expect(retried.id).not.toBe(runId)
      const done = await runDone(r, org, retried.id)
      expect(done).toMatchObject({
        status: 'succeeded',
        workflowVersion: 1,
        event: { data: { job: 'backup' } },
      })
      expect(done.steps.find((s) => s.stepId === 'tell')?.input).toEqual({ text: 'done' })
    })

    it('runs at most `concurrency` runs of a workflow at once; the others wait queued and start in order', async () => {
      await enablePlugin(r, org, 'conc', '@acme/slow', '1.0.0')
      const gate = await SimAgent.enroll(r, 'conc')
      const held: (() => void)[] = []
      gate.start(
        (i) =>
          new Promise((res) => {
            held.push(() => res({ status: 'succeeded', output: { job: i.input.job } }))
          }),
      )
      try {
        const { workflow } = await r.o.services.workflows.apply(
          org,
          doc('one-at-a-time')
            .replaceAll('pool: ops', 'pool: conc')
            .replace('outputs:', 'concurrency: 1\noutputs:'),
          SYSTEM,
        )
        const ids: string[] = []
        for (const job of ['a', 'b', 'c']) ids.push((await deliver(r, workflow.id, { job })).runId!)
        const statuses = async () =>
          Promise.all(ids.map(async (id) => (await r.o.services.runs.get(org, id)).status))
        expect(await statuses()).toEqual(['running', 'queued', 'queued'])
        // Release each held step as it arrives: the runs finish one after another, in order.
        const order: string[] = []
        await until(async () => {
          const next = held.shift()
          if (next) next()
          const s = await statuses()
          for (const [k, st] of s.entries())
            if (st === 'succeeded' && !order.includes(ids[k]!)) order.push(ids[k]!)
          return s.every((x) => x === 'succeeded')
        }, 30_000)
        expect(order).toEqual(ids)
        const started = await Promise.all(
          ids.map(async (id) => (await r.o.services.runs.get(org, id)).startedAt!),
        )
        expect([...started].sort()).toEqual(started)
      } finally {
        await gate.stop()
      }
    })

    it('finishes the run of a step whose queued instruction an operator cancelled', async () => {
      await enablePlugin(r, org, 'idle', '@acme/slow', '1.0.0')
      const { workflow } = await r.o.services.workflows.apply(
        org,
        doc('no-agent').replace('pool: ops, input: { job', 'pool: idle, input: { job'),
        SYSTEM,
      )
      const { runId } = await deliver(r, workflow.id, { job: 'q' })
      const queued = (await r.o.services.runs.get(org, runId!)).steps.find((s) => s.stepId === 'slow')!
      expect(queued.status).toBe('queued')
      await r.o.services.dispatcher.cancel(org, queued.instructionId!)
      const done = await runDone(r, org, runId!)
      expect(done.status).toBe('cancelled')
      expect(done.steps.find((s) => s.stepId === 'slow')?.status).toBe('cancelled')
    })

    it('lists runs newest first, a page at a time, and by status', async () => {
      // A pool no agent serves: the runs stay running until cancelled.
      await enablePlugin(r, org, 'listed', '@acme/slow', '1.0.0')
      const { workflow } = await r.o.services.workflows.apply(
        org,
        doc('listed').replaceAll('pool: ops', 'pool: listed'),
        SYSTEM,
      )
      const ids: string[] = []
      for (let i = 0; i < 4; i++) {
        ids.push((await deliver(r, workflow.id, { job: `l${i}` })).runId!)
        // created_at has millisecond precision and ties fall back to the random id: keep the
        // runs in distinct milliseconds so "newest first" has one right answer.
        await new Promise((resolve) => setTimeout(resolve, 3))
      }
      const runs = r.o.services.runs
      const page1 = await runs.list(org, { workflow: workflow.id, limit: 2 })
      expect(page1.map((x) => x.id)).toEqual([ids[3], ids[2]])
      const last = page1.at(-1)!
      const page2 = await runs.list(org, {
        workflow: workflow.id,
        limit: 10,
        before: { createdAt: last.createdAt, id: last.id },
      })
      expect(page2.map((x) => x.id)).toEqual([ids[1], ids[0]])
      await r.o.services.engine.cancelRun(org, ids[1]!, SYSTEM)
      const cancelled = await runs.list(org, { workflow: workflow.id, status: 'cancelled' })
      expect(cancelled.map((x) => x.id)).toEqual([ids[1]])
      for (const id of ids)
        if (id !== ids[1]) await r.o.services.engine.cancelRun(org, id, SYSTEM).catch(() => {})
    })

    it('keeps another organization away from the workflow, its runs and its webhook', async () => {
      const { workflow } = await r.o.services.workflows.apply(org, doc('private'), SYSTEM)
      const { runId } = await deliver(r, workflow.id, { job: 'x' })
      const other = await r.o.services.tenancy.createOrganization('other-org')
      const otherOrg = other.organization.id
      const svc = r.o.services
      await expect(svc.workflows.get(otherOrg, workflow.id)).rejects.toMatchObject({ statusCode: 404 })
      await expect(svc.workflows.get(otherOrg, 'private')).rejects.toMatchObject({ statusCode: 404 })
      await expect(svc.workflows.setEnabled(otherOrg, 'private', false, SYSTEM)).rejects.toMatchObject({
        statusCode: 404,
      })
      expect(await svc.workflows.list(otherOrg)).toEqual([])
      await expect(svc.runs.get(otherOrg, runId!)).rejects.toMatchObject({
        code: 'STAVILY_ERR_RUN_NOT_FOUND',
      })
      expect(await svc.runs.list(otherOrg)).toEqual([])
      await expect(svc.engine.cancelRun(otherOrg, runId!, SYSTEM)).rejects.toMatchObject({ statusCode: 404 })
      await expect(svc.engine.retryRun(otherOrg, runId!, SYSTEM)).rejects.toMatchObject({ statusCode: 404 })
      // An id that is not a UUID names no run: the same 404, not a 400 or a database error.
      await expect(svc.engine.cancelRun(org, 'not-a-run', SYSTEM)).rejects.toMatchObject({
        code: 'STAVILY_ERR_RUN_NOT_FOUND',
      })
      await expect(svc.engine.retryRun(org, 'not-a-run', SYSTEM)).rejects.toMatchObject({
        code: 'STAVILY_ERR_RUN_NOT_FOUND',
      })
      await expect(svc.runs.list('acme')).rejects.toMatchObject({
        code: 'STAVILY_ERR_INVALID_ARGUMENT',
        data: { field: 'orgId' },
      })
      await expect(
        svc.engine.startRun(otherOrg, workflow.id, { type: 't', data: {} }, SYSTEM),
      ).rejects.toMatchObject({
        statusCode: 404,
      })
      // The other organization's secret of the same name does not sign this webhook.
      await svc.secrets.set(otherOrg, 'HOOK_KEY', 'another-secret')
      await expect(deliver(r, workflow.id, { job: 'y' }, 'another-secret')).rejects.toMatchObject({
        code: 'STAVILY_ERR_WEBHOOK_SIGNATURE',
        statusCode: 401,
      })
      // Disabled workflows refuse their webhook.
      await svc.workflows.setEnabled(org, 'private', false, SYSTEM)
      await expect(deliver(r, workflow.id, { job: 'z' })).rejects.toMatchObject({
        code: 'STAVILY_ERR_WEBHOOK_DISABLED',
      })
    })
  })
}
