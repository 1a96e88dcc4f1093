import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LIMITS } from '../../src/defaults.ts'
import { enablePlugin } from '../engine/fixtures.ts'
import { SimAgent, type WireInstruction } from '../engine/sim-agent.ts'
import { call, type Running, setups } from '../helpers/harness.ts'
import { deliver, HOOK_SECRET, readStream } from './helpers.ts'

// The live stream carries each finished step's output (issue 15, item 8: a dashboard shows
// an output's result as it happens, without reading the run): whole when it is small, and
// `outputOmitted` with its size when it is larger than LIMITS.streamOutputMax.

const workflow = `name: stream-outputs
trigger:
  webhook:
    secret: HOOK_KEY
actions:
  - id: compute
    plugin: "@acme/compute"
    version: ^1.0.0
    pool: web
    input:
      n: \${{ trigger.n }}
`

type StepEvent = {
  runId: string
  step: string
  status: string
  output?: unknown
  outputOmitted?: boolean
  outputSize?: number
}

for (const setup of setups()) {
  describe(`step outputs on the live stream, ${setup.name}`, () => {
    let r: Running
    let agent: SimAgent
    let workflowId: string

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start()
      agent = await SimAgent.enroll(r, 'web')
      await enablePlugin(r, agent.orgId, 'web', '@acme/compute', '1.0.0')
      const api = (method: string, path: string, body: unknown) =>
        call(r.operatorUrl, method, `/api/v1${path}`, { token: r.admin, body })
      expect((await api('PUT', '/secrets/HOOK_KEY', { value: HOOK_SECRET })).status).toBe(201)
      const applied = await api('POST', '/workflows', { document: workflow })
      expect(applied.status, JSON.stringify(applied.body)).toBe(201)
      workflowId = applied.body.workflow.id
      // n = 1: a small output; n = 2: one past the stream's limit.
      agent.start((i: WireInstruction) =>
        Number(i.input.n) === 1
          ? { status: 'succeeded', output: { value: 42 } }
          : { status: 'succeeded', output: { blob: 'x'.repeat(LIMITS.streamOutputMax) } },
      )
    }, 60_000)
    afterAll(async () => {
      await agent?.stop()
      await setup.cleanup()
    })

    it('sends a small output whole and says when a large one was left out', async () => {
      const finished = new Map<number, StepEvent>()
      const runs = new Map<string, number>()
      const signal = AbortSignal.timeout(25_000)
      await readStream(
        `${r.operatorUrl}/api/v1/stream?token=${r.admin}`,
        async () => {
          for (const n of [1, 2]) {
            const res = await deliver(r, workflowId, { n })
            expect(res.status, JSON.stringify(res.body)).toBe(202)
            runs.set(res.body.runId, n)
          }
        },
        (e) => {
          const d = e.data as StepEvent
          if (e.event === 'step' && d.status === 'succeeded' && runs.has(d.runId))
            finished.set(runs.get(d.runId)!, d)
          return finished.size === 2
        },
        signal,
      )
      expect(finished.get(1)).toMatchObject({ step: 'compute', output: { value: 42 } })
      expect(finished.get(2)).toMatchObject({ step: 'compute', outputOmitted: true })
      expect(finished.get(2)!.outputSize).toBeGreaterThan(LIMITS.streamOutputMax)
      expect(finished.get(2)).not.toHaveProperty('output')
    })
  })
}
