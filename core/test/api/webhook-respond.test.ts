// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the workflow template syntax
import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { enablePlugin } from '../engine/fixtures.ts'
import { SimAgent, type WireInstruction } from '../engine/sim-agent.ts'
import { call, type Running, setups } from '../helpers/harness.ts'
import { deliver, HOOK_SECRET } from './helpers.ts'

// trigger.webhook.respond over real HTTP on both backends (issue 15, item 7): a hook whose
// run finishes within `wait` answers the status and body the workflow renders from it (an
// agent simulated at the protocol level completes the step); a run that does not finish in
// time gets the 202 with the run id and its URL; a re-sent event answers for the run it
// already started; a rendering failure is a 200 error document naming the field; a bad
// `respond` is refused at apply with its line; a dry run shows the response.

const respondWorkflow = (name: string, pool: string, respond: string, provider = '') => `name: ${name}
trigger:
  webhook:
    secret: HOOK_KEY
${provider}    respond:
${respond}
actions:
  - id: compute
    plugin: "@acme/compute"
    version: ^1.0.0
    pool: ${pool}
    input:
      n: \${{ trigger.n }}
`

const RESPOND = `      wait: 10s
      status: \${{ steps.compute.output.code }}
      body:
        result: \${{ steps.compute.output.value }}
        outcome: "run \${{ run.status }}"`

for (const setup of setups()) {
  describe(`webhook respond on ${setup.name}`, () => {
    let r: Running
    let agent: SimAgent
    const api = (method: string, path: string, body?: unknown) =>
      call(r.operatorUrl, method, `/api/v1${path}`, { token: r.admin, ...(body ? { body } : {}) })
    const apply = async (document: string) => {
      const res = await api('POST', '/workflows', { document })
      expect(res.status, JSON.stringify(res.body)).toBe(201)
      return res.body.workflow.id as string
    }

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start()
      agent = await SimAgent.enroll(r, 'web')
      await enablePlugin(r, agent.orgId, 'web', '@acme/compute', '1.0.0')
      await enablePlugin(r, agent.orgId, 'idle', '@acme/compute', '1.0.0')
      expect((await api('PUT', '/secrets/HOOK_KEY', { value: HOOK_SECRET })).status).toBe(201)
      agent.start((i: WireInstruction) => {
        const n = Number(i.input.n)
        return { status: 'succeeded', output: { value: n * 2, code: n > 100 ? 207 : 201 } }
      })
    }, 60_000)
    afterAll(async () => {
      await agent?.stop()
      await setup.cleanup()
    })

    it('answers the rendered status and body when the run finishes within wait', async () => {
      const id = await apply(respondWorkflow('respond-fast', 'web', RESPOND))
      const res = await deliver(r, id, { n: 21 })
      expect(res.status, JSON.stringify(res.body)).toBe(201)
      expect(res.headers.get('content-type')).toMatch(/application\/json/)
      expect(res.body).toEqual({ result: 42, outcome: 'run succeeded' })
      const big = await deliver(r, id, { n: 500 })
      expect(big.status).toBe(207)
      expect(big.body.result).toBe(1000)
    })

    it('answers 202 with the run id and URL when the run does not finish in time', async () => {
      // No agent serves pool "idle": the step stays queued.
      const id = await apply(respondWorkflow('respond-slow', 'idle', RESPOND.replace('10s', '300ms')))
      const started = Date.now()
      const res = await deliver(r, id, { n: 1 })
      expect(res.status, JSON.stringify(res.body)).toBe(202)
      expect(Date.now() - started).toBeGreaterThanOrEqual(250)
      expect(res.body).toMatchObject({ accepted: true, runId: expect.any(String) })
      expect(res.body.runUrl).toBe(`/api/v1/runs/${res.body.runId}`)
      const run = await api('GET', res.body.runUrl.replace('/api/v1', ''))
      expect(run.status).toBe(200)
      expect(run.body.status).toMatch(/queued|running/)
    })

    it('a re-sent event answers for the run it already started', async () => {
      const secret = HOOK_SECRET
      const id = await apply(
        respondWorkflow('respond-github', 'web', RESPOND, '    provider: github\n').replace(
          'n: ${{ trigger.n }}',
          'n: ${{ length(trigger.commits) }}',
        ),
      )
      const push = {
        ref: 'refs/heads/main',
        before: 'a'.repeat(40),
        after: 'd'.repeat(40),
        repository: { full_name: 'acme/web', clone_url: 'http://127.0.0.1/acme/web.git' },
        pusher: { name: 'ada', email: 'ada@example.com' },
        commits: [{ id: 'd'.repeat(40), message: 'Fix', author: { name: 'Ada', email: 'ada@example.com' } }],
      }
      const raw = JSON.stringify(push)
      const headers = {
        'content-type': 'application/json',
        'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`,
        'x-github-event': 'push',
      }
      const post = () => call(r.operatorUrl, 'POST', `/api/v1/hooks/${id}`, { raw, headers })
      const first = await post()
      expect(first.status, JSON.stringify(first.body)).toBe(201)
      expect(first.body).toEqual({ result: 2, outcome: 'run succeeded' })
      const again = await post()
      expect(again.status).toBe(201)
      expect(again.body).toEqual(first.body)
      const runs = await api('GET', `/runs?workflow=${id}`)
      expect(runs.body.items).toHaveLength(1)
    })

    it('a body that fails to render answers 200 with an error document naming the field, never a 5xx', async () => {
      const id = await apply(
        respondWorkflow(
          'respond-broken',
          'web',
          `      wait: 10s
      body:
        deep: \${{ steps.compute.output.missing.field }}`,
        ),
      )
      const res = await deliver(r, id, { n: 3 })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(res.body).toMatchObject({
        runId: expect.any(String),
        status: 'succeeded',
        error: { code: 'STAVILY_ERR_WEBHOOK_RESPONSE', field: 'trigger.webhook.respond.body' },
      })
      expect(res.body.error.message).toMatch(/missing/)
    })

    it('refuses a bad respond at apply, naming the field and line', async () => {
      const cases: [string, RegExp][] = [
        [RESPOND.replace('10s', '2m'), /trigger\.webhook\.respond\.wait/],
        [RESPOND.replace('${{ steps.compute.output.code }}', '${{ steps.nope.output }}'), /nope/],
        [RESPOND.replace('${{ steps.compute.output.code }}', '99'), /trigger\.webhook\.respond\.status/],
        [RESPOND.replace('${{ steps.compute.output.code }}', 'teapot'), /trigger\.webhook\.respond\.status/],
        [
          RESPOND.replace('${{ steps.compute.output.value }}', '${{ steps.compute.output. }}'),
          /body\.result/,
        ],
        [`${RESPOND}\n      extra: 1`, /trigger\.webhook\.respond/],
      ]
      for (const [respond, field] of cases) {
        const bad = await api('POST', '/workflows', {
          document: respondWorkflow('respond-bad', 'web', respond),
        })
        expect(bad.status, respond).toBe(400)
        expect(bad.body.error.code).toBe('STAVILY_ERR_WORKFLOW_INVALID')
        const text = JSON.stringify(bad.body.error)
        expect(text, respond).toMatch(field)
        expect(text).toMatch(/line \d+/)
      }
    })

    it('a dry run shows the response the hook would answer', async () => {
      const document = respondWorkflow('respond-dry', 'web', RESPOND)
      const shown = await api('POST', '/workflows/dry-run', {
        document,
        event: { data: { n: 4 } },
        steps: { compute: { output: { value: 8, code: 201 } } },
      })
      expect(shown.status, JSON.stringify(shown.body)).toBe(200)
      expect(shown.body.response).toEqual({ status: 201, body: { result: 8, outcome: 'run succeeded' } })
      const unknown = await api('POST', '/workflows/dry-run', { document, event: { data: { n: 4 } } })
      expect(unknown.body.response).toMatchObject({
        status: null,
        reason: expect.stringMatching(/stepResults\.compute/),
      })
    })
  })
}
