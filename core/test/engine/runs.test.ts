import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stepIdempotencyKey } from '../../src/workflows/index.ts'
import { call, enroll, type Running, setups, until } from '../helpers/harness.ts'
import { deliver, enablePlugin, HOOK_SECRET, runDone, SYSTEM } from './fixtures.ts'
import { SimAgent, type WireInstruction } from './sim-agent.ts'

// The engine end to end with agents simulated over real HTTP: a webhook starts a run, the
// action's output feeds the output's input, failures are retried and then fail the run
// while the failure output still runs, and every transition is on a verifiable audit chain.

const pipeline = (name: string, extra = '') => `
name: ${name}
trigger:
  webhook:
    secret: HOOK_KEY
    filter: trigger.service != 'ignored'
actions:
  - id: restart
    plugin: "@acme/restart"
    version: ^1.0.0
    pool: web
    input:
      service: \${{ trigger.service }}
    retry: { limit: 2, backoff: fixed, delay: 1ms }
outputs:
  - id: notify
    plugin: "@acme/slack"
    version: ^2
    pool: web
    on: success
    input:
      text: "restarted \${{ steps.restart.output.unit }}: \${{ run.status }}"
  - id: page
    plugin: "@acme/slack"
    version: ^2
    pool: web
    on: failure
    input:
      text: "failed: \${{ steps.restart.error.message }}"
${extra}`

for (const setup of setups()) {
  describe(`workflow runs on ${setup.name}`, () => {
    let r: Running
    let agent: SimAgent
    let org: string
    // What the simulated plugins do, by service name.
    const failing = new Set<string>()

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start()
      agent = await SimAgent.enroll(r, 'web')
      // Secrets go only to agents that grant them (reported with heartbeats).
      await call(r.url, 'POST', '/agents/v1/heartbeat', {
        token: agent.credential,
        body: { secretGrants: { all: ['RESTART_TOKEN'] } },
      })
      org = agent.orgId
      await enablePlugin(r, org, 'web', '@acme/restart', '1.4.0', { secrets: ['RESTART_TOKEN'] })
      await enablePlugin(r, org, 'web', '@acme/slack', '2.0.1')
      await r.o.services.secrets.set(org, 'HOOK_KEY', HOOK_SECRET)
      await r.o.services.secrets.set(org, 'RESTART_TOKEN', 's3cret')
      agent.start((i: WireInstruction) => {
        if (i.plugin === '@acme/restart') {
          if (failing.has(String(i.input.service)))
            return {
              status: 'failed',
              error: { code: 'UNIT_NOT_FOUND', message: `no unit ${i.input.service}` },
            }
          return { status: 'succeeded', output: { unit: `${i.input.service}.service`, restarted: true } }
        }
        return { status: 'succeeded', output: { posted: i.input.text } }
      })
    }, 60_000)
    afterAll(async () => {
      await agent?.stop()
      await setup.cleanup()
    })

    it('runs webhook → action → output, the action output feeding the output input', async () => {
      const applied = await r.o.services.workflows.apply(org, pipeline('restart-web'), SYSTEM)
      expect(applied).toMatchObject({ version: 1, changed: true, warnings: [] })
      const answer = await deliver(r, applied.workflow.id, { service: 'nginx' })
      expect(answer).toMatchObject({ accepted: true, runId: expect.any(String) })
      const run = await runDone(r, org, answer.runId!)
      expect(run.status).toBe('succeeded')
      const steps = Object.fromEntries(run.steps.map((s) => [s.stepId, s]))
      expect(steps.restart).toMatchObject({
        status: 'succeeded',
        attempt: 1,
        output: { unit: 'nginx.service' },
      })
      expect(steps.notify).toMatchObject({
        status: 'succeeded',
        kind: 'output',
        input: { text: 'restarted nginx.service: succeeded' },
      })
      expect(steps.page).toMatchObject({ status: 'skipped' })

      const sent = agent.seen.filter((i) => i.runId === run.id)
      const restart = sent.find((i) => i.stepId === 'restart')!
      expect(restart).toMatchObject({
        operation: 'run',
        version: '1.4.0',
        idempotencyKey: stepIdempotencyKey(run.id, 'restart'),
        secrets: { RESTART_TOKEN: 's3cret' },
        input: { service: 'nginx' },
      })
      expect(sent.find((i) => i.stepId === 'notify')).toMatchObject({ operation: 'send', secrets: {} })

      // The filter decides which events start a run.
      expect(await deliver(r, applied.workflow.id, { service: 'ignored' })).toEqual({
        accepted: true,
        runId: null,
        reason: 'filtered',
      })
    })

    it('retries a failing action, then fails the run and still runs the failure output', async () => {
      const { workflow } = await r.o.services.workflows.apply(org, pipeline('restart-fail'), SYSTEM)
      failing.add('ghost')
      const answer = await deliver(r, workflow.id, { service: 'ghost' })
      const run = await runDone(r, org, answer.runId!)
      expect(run.status).toBe('failed')
      const steps = Object.fromEntries(run.steps.map((s) => [s.stepId, s]))
      expect(steps.restart).toMatchObject({
        status: 'failed',
        attempt: 3,
        error: { code: 'UNIT_NOT_FOUND', message: 'no unit ghost' },
      })
      // Every attempt got the same idempotency key.
      const attempts = agent.seen.filter((i) => i.runId === run.id && i.stepId === 'restart')
      expect(attempts.map((i) => i.attempt)).toEqual([1, 2, 3])
      expect(new Set(attempts.map((i) => i.idempotencyKey)).size).toBe(1)
      expect(steps.page).toMatchObject({ status: 'succeeded', input: { text: 'failed: no unit ghost' } })
      expect(steps.notify).toMatchObject({ status: 'skipped' })
    })

    it('fails a step whose plugin the pool has not enabled, saying what to run', async () => {
      const doc = pipeline('needs-plugin').replace('"@acme/restart"', '"@acme/missing"')
      const applied = await r.o.services.workflows.apply(org, doc, SYSTEM)
      expect(applied.warnings).toEqual([
        'step restart: plugin @acme/missing is not enabled in pool web; run `stavily plugin enable @acme/missing --pool web --range "^1.0.0"`',
      ])
      const run = await runDone(r, org, (await deliver(r, applied.workflow.id, { service: 'x' })).runId!)
      expect(run.status).toBe('failed')
      const restart = run.steps.find((s) => s.stepId === 'restart')!
      expect(restart.error).toEqual({
        code: 'STAVILY_ERR_PLUGIN_NOT_ENABLED',
        message:
          'step restart: plugin @acme/missing is not enabled in pool web; run `stavily plugin enable @acme/missing --pool web --range "^1.0.0"`',
      })
      expect(run.steps.find((s) => s.stepId === 'page')?.status).toBe('succeeded')
    })

    it('finishes running runs on the version they started with after an edit', async () => {
      const v1 = await r.o.services.workflows.apply(org, pipeline('edited'), SYSTEM)
      // Hold the first attempt of this run until the workflow was edited.
      let release: (() => void) | undefined
      const held = new Promise<void>((res) => {
        release = res
      })
      const gate = await SimAgent.enroll(r, 'edit-pool')
      await enablePlugin(r, org, 'edit-pool', '@acme/restart', '1.0.0')
      await enablePlugin(r, org, 'edit-pool', '@acme/slack', '2.0.0')
      const doc1 = pipeline('edited-pool').replaceAll('pool: web', 'pool: edit-pool')
      const w = await r.o.services.workflows.apply(org, doc1, SYSTEM)
      gate.start(async (i) => {
        if (i.plugin === '@acme/restart') {
          await held
          return { status: 'succeeded', output: { unit: 'v1' } }
        }
        return { status: 'succeeded', output: {} }
      })
      try {
        const first = await deliver(r, w.workflow.id, { service: 'db' })
        await r.o.services.workflows.apply(org, doc1.replace('restarted ', 'v2 restarted '), SYSTEM)
        release!()
        const run = await runDone(r, org, first.runId!)
        expect(run.workflowVersion).toBe(1)
        expect(run.steps.find((s) => s.stepId === 'notify')?.input).toEqual({
          text: 'restarted v1: succeeded',
        })
        const second = await runDone(
          r,
          org,
          (await deliver(r, w.workflow.id, { service: 'db', again: true })).runId!,
        )
        expect(second.workflowVersion).toBe(2)
        expect(second.steps.find((s) => s.stepId === 'notify')?.input).toEqual({
          text: 'v2 restarted v1: succeeded',
        })
        expect((await r.o.services.workflows.versions(org, 'edited-pool')).map((v) => v.version)).toEqual([
          2, 1,
        ])
      } finally {
        await gate.stop()
      }
      expect(v1.version).toBe(1)
    })

    it('hands sensors to sensor agents and starts runs from the events they report', async () => {
      const sensor = await enroll(r, 'sensor', 'mon')
      await call(r.url, 'POST', '/agents/v1/heartbeat', {
        token: sensor.credential,
        body: { secretGrants: { all: ['PROM_TOKEN'] } },
      })
      await enablePlugin(r, org, 'mon', '@acme/prom', '1.3.0', { secrets: ['PROM_TOKEN'] })
      await r.o.services.secrets.set(org, 'PROM_TOKEN', 'prom-secret')
      const doc = `
name: on-alert
trigger:
  sensor:
    plugin: "@acme/prom"
    version: ^1.2.0
    pool: mon
    interval: 30s
    config: { url: "http://prom:9090" }
    filter: trigger.severity == 'critical'
actions:
  - { id: restart, plugin: "@acme/restart", version: ^1, pool: web, input: { service: "\${{ trigger.service }}" } }
`
      const { workflow } = await r.o.services.workflows.apply(org, doc, SYSTEM)
      const beat = await call(r.url, 'POST', '/agents/v1/heartbeat', { token: sensor.credential, body: {} })
      expect(beat.body.pluginsChanged).toBe(true)
      const plugins = await call(r.url, 'GET', '/agents/v1/plugins', { token: sensor.credential })
      expect(plugins.body.sensors).toEqual([
        {
          id: workflow.id,
          revision: 1,
          plugin: '@acme/prom',
          version: '1.3.0',
          config: { url: 'http://prom:9090' },
          intervalMs: 30_000,
          watch: false,
          secrets: { PROM_TOKEN: 'prom-secret' },
        },
      ])
      // Action agents get no sensors.
      const mine = await call(r.url, 'GET', '/agents/v1/plugins', { token: agent.credential })
      expect(mine.body.sensors).toEqual([])

      const report = (events: object[]) =>
        call(r.url, 'POST', '/agents/v1/events', { token: sensor.credential, body: { events } })
      const ev = { source: '@acme/prom', type: 'alert.firing' }
      expect(
        (
          await report([
            {
              ...ev,
              data: { severity: 'critical', service: 'cache' },
              sensorId: workflow.id,
              dedupeKey: 'a1',
            },
            { ...ev, data: { severity: 'info', service: 'cache' }, sensorId: workflow.id, dedupeKey: 'a2' },
            { ...ev, data: { severity: 'critical', service: 'other' }, dedupeKey: 'a3' },
          ])
        ).status,
      ).toBe(202)
      const [run] = await until(async () => {
        const runs = await r.o.services.runs.list(org, { workflow: 'on-alert' })
        return runs.length > 0 ? runs : undefined
      })
      const done = await runDone(r, org, run!.id)
      expect(done).toMatchObject({ status: 'succeeded', event: { data: { service: 'cache' } } })
      // The same event reported again starts nothing more; the filtered and the unrouted ones none at all.
      await report([
        { ...ev, data: { severity: 'critical', service: 'cache' }, sensorId: workflow.id, dedupeKey: 'a1' },
      ])
      await r.o.services.engine.reconcile()
      expect(await r.o.services.runs.list(org, { workflow: 'on-alert' })).toHaveLength(1)
    })

    it('records every run and step transition on an audit chain that verifies', async () => {
      const runs = await r.o.services.runs.list(org, { workflow: 'restart-web' })
      const runId = runs[0]!.id
      const entries = await r.o.services.audit.list(org, { targetType: 'run', targetId: runId })
      const actions = entries
        .map(
          (e) =>
            `${e.action}${(e.data as { step?: string }).step ? `:${(e.data as { step: string }).step}` : ''}`,
        )
        .reverse()
      expect(actions).toEqual([
        'run.queued',
        'run.started',
        'step.queued:restart',
        'step.started:restart',
        'step.succeeded:restart',
        'step.queued:notify',
        'step.skipped:page',
        'step.started:notify',
        'step.succeeded:notify',
        'run.succeeded',
      ])
      expect(entries.every((e) => e.actor.type === 'system')).toBe(true)
      const created = await r.o.services.audit.list(org, { action: 'workflow.created' })
      expect(created.length).toBeGreaterThan(0)
      expect(await r.o.services.audit.verify(org)).toMatchObject({ ok: true })
    })
  })
}
