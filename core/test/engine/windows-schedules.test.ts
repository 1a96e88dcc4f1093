import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Running, setups, until } from '../helpers/harness.ts'
import { deliver, enablePlugin, HOOK_SECRET, runDone, SYSTEM } from './fixtures.ts'
import { SimAgent } from './sim-agent.ts'

// An alert storm starts one run, not a thousand (debounce), a throttle starts at most one
// per window, and a cron trigger starts runs on its schedule.

const hooked = (name: string, window: string) => `
name: ${name}
trigger: { webhook: { secret: HOOK_KEY } }
actions:
  - id: act
    plugin: "@acme/restart"
    version: ^1
    pool: storm
    input: { service: "\${{ trigger.service }}", n: "\${{ trigger.n }}" }
${window}`

for (const setup of setups()) {
  describe(`debounce, throttle and schedules on ${setup.name}`, () => {
    let r: Running
    let agent: SimAgent
    let org: string

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start()
      agent = await SimAgent.enroll(r, 'storm')
      org = agent.orgId
      await enablePlugin(r, org, 'storm', '@acme/restart', '1.0.0')
      await r.o.services.secrets.set(org, 'HOOK_KEY', HOOK_SECRET)
      agent.start((i) => ({ status: 'succeeded', output: { got: i.input } }))
    }, 60_000)
    afterAll(async () => {
      await agent?.stop()
      await setup.cleanup()
    })

    it('starts one run, with the last event, for 1,000 events within the debounce window', async () => {
      const { workflow } = await r.o.services.workflows.apply(
        org,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow template, not JavaScript's
        hooked('storm', 'debounce: { window: 2s, key: "${{ trigger.service }}" }'),
        SYSTEM,
      )
      const answers: { runId: string | null; reason?: string }[] = []
      // 999 events, 27 at a time, then the last one alone (so which one is last is certain).
      for (let batch = 0; batch < 999; batch += 27) {
        answers.push(
          ...(await Promise.all(
            Array.from({ length: 27 }, (_, k) => deliver(r, workflow.id, { service: 'api', n: batch + k })),
          )),
        )
      }
      answers.push(await deliver(r, workflow.id, { service: 'api', n: 999 }))
      expect(answers).toHaveLength(1_000)
      expect(answers.every((a) => a.runId === null && a.reason === 'debounced')).toBe(true)
      const [run] = await until(async () => {
        const runs = await r.o.services.runs.list(org, { workflow: 'storm' })
        return runs.length > 0 ? runs : undefined
      }, 30_000)
      const done = await runDone(r, org, run!.id)
      expect(done.status).toBe('succeeded')
      expect((done.event.data as { n: number }).n).toBe(999)
      // Quiet afterwards: still exactly one run.
      await r.o.services.engine.reconcile()
      expect(await r.o.services.runs.list(org, { workflow: 'storm' })).toHaveLength(1)
      // A thousand deliveries take about 27 s on PGlite on a loaded 2-core machine: the
      // default 30 s left no room (it timed out twice beside other suites).
    }, 120_000)

    it('starts at most one run per throttle window, with the first event', async () => {
      const { workflow } = await r.o.services.workflows.apply(
        org,
        hooked('throttled', 'throttle: { window: 1h }'),
        SYSTEM,
      )
      const answers = []
      for (let n = 0; n < 20; n++) answers.push(await deliver(r, workflow.id, { service: 'x', n }))
      expect(answers.filter((a) => a.runId !== null)).toHaveLength(1)
      expect(answers.slice(1).every((a) => a.reason === 'throttled')).toBe(true)
      const done = await runDone(r, org, answers[0]!.runId!)
      expect((done.event.data as { n: number }).n).toBe(0)
    })

    it('keeps a pg-boss schedule per enabled cron workflow and starts a run when it fires', async () => {
      const doc = `
name: nightly
trigger: { schedule: { cron: "0 3 * * 1-5", timezone: Europe/Paris } }
actions:
  - { id: act, plugin: "@acme/restart", version: ^1, pool: storm, input: { at: "\${{ trigger.scheduledAt }}" } }
`
      const { workflow } = await r.o.services.workflows.apply(org, doc, SYSTEM)
      const schedules = r.o.services.engine.schedules
      expect(await schedules.list()).toContainEqual({
        workflowId: workflow.id,
        cron: '0 3 * * 1-5',
        timezone: 'Europe/Paris',
      })
      // The firing itself, as pg-boss's cron job hands it to the worker.
      const at = new Date('2026-01-05T02:00:00.000Z')
      const fired = await r.o.services.engine.fireSchedule(org, workflow.id, at, 'job-1')
      const done = await runDone(r, org, fired!.id)
      expect(done).toMatchObject({
        status: 'succeeded',
        event: { source: 'schedule', type: 'schedule.fired', data: { scheduledAt: at.toISOString() } },
      })
      expect(done.steps[0]!.input).toEqual({ at: at.toISOString() })
      // A redelivered firing starts no second run, even ten redeliveries at once.
      expect((await r.o.services.engine.fireSchedule(org, workflow.id, at, 'job-1'))!.id).toBe(fired!.id)
      const storm = await Promise.all(
        Array.from({ length: 10 }, () => r.o.services.engine.fireSchedule(org, workflow.id, at, 'job-9')),
      )
      expect(new Set(storm.map((x) => x!.id)).size).toBe(1)
      const runs = await r.o.services.runs.list(org, { workflow: workflow.id })
      expect(runs.filter((x) => x.event.dedupeKey === 'schedule:job-9')).toHaveLength(1)

      await r.o.services.workflows.setEnabled(org, 'nightly', false, SYSTEM)
      expect((await schedules.list()).map((s) => s.workflowId)).not.toContain(workflow.id)
      expect(await r.o.services.engine.fireSchedule(org, workflow.id, at, 'job-2')).toBeNull()
    })

    it('fires a cron schedule through pg-boss itself', async () => {
      // pg-boss checks cron once a minute at most; every minute is the shortest schedule,
      // so this waits for the next minute boundary (up to ~60 s plus the check).
      const doc = `
name: every-minute
trigger: { schedule: { cron: "* * * * *" } }
actions:
  - { id: act, plugin: "@acme/restart", version: ^1, pool: storm }
`
      await r.o.services.workflows.apply(org, doc, SYSTEM)
      const [run] = await until(
        async () => {
          const runs = await r.o.services.runs.list(org, { workflow: 'every-minute' })
          return runs.length > 0 ? runs : undefined
        },
        150_000,
        'a run started by pg-boss cron',
      )
      expect(run!.event).toMatchObject({ source: 'schedule', type: 'schedule.fired' })
      await r.o.services.workflows.setEnabled(org, 'every-minute', false, SYSTEM)
    }, 180_000)
  })
}
