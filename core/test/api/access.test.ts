import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, enroll, type Running, setups } from '../helpers/harness.ts'
import { type Actors, actors, HOOK_SECRET, webhookWorkflow } from './helpers.ts'

// Roles and tenancy on every operator route: a viewer changes nothing (403), another
// organization finds nothing (404), no token is a 401; and the API describes itself
// (OpenAPI at /openapi.json, Swagger UI at /docs).

const ZERO = '00000000-0000-4000-8000-000000000000'

for (const setup of setups()) {
  describe(`operator API access on ${setup.name}`, () => {
    let r: Running
    let a: Actors
    let workflowId: string
    let runId: string
    let agentId: string
    let instructionId: string
    let tokenId: string

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start()
      a = await actors(r)
      const api = (method: string, path: string, body?: unknown) =>
        call(r.operatorUrl, method, `/api/v1${path}`, {
          token: a.admin,
          ...(body === undefined ? {} : { body }),
        })
      await api('PUT', '/secrets/HOOK_KEY', { value: HOOK_SECRET })
      workflowId = (await api('POST', '/workflows', { document: webhookWorkflow() })).body.workflow.id
      const started = await r.o.services.engine.startRun(
        (await r.o.services.tenancy.authenticateApiToken(a.admin))!.orgId,
        workflowId,
        { type: 'webhook', data: { service: 'nginx' } },
        { type: 'system', id: null },
      )
      runId = started!.id
      agentId = (await enroll(r, 'action', 'web')).id
      instructionId = (
        await api('POST', '/instructions', {
          kind: 'action',
          pool: 'web',
          plugin: '@acme/x',
          operation: 'run',
        })
      ).body.id
      tokenId = a.ids.viewer
    })
    afterAll(() => setup.cleanup())

    // Every mutating route with a valid body: a viewer is refused before anything runs.
    const mutations = (): [string, string, unknown][] => [
      ['POST', '/workflows', { document: webhookWorkflow('other') }],
      ['POST', `/workflows/${workflowId}/enable`, undefined],
      ['POST', `/workflows/${workflowId}/disable`, undefined],
      ['POST', `/runs/${runId}/cancel`, undefined],
      ['POST', `/runs/${runId}/retry`, undefined],
      ['POST', `/agents/${agentId}/revoke`, undefined],
      ['POST', `/agents/${agentId}/drain`, { drain: true }],
      ['POST', '/enrollment-tokens', { kind: 'action', pool: 'web' }],
      ['POST', '/tokens', { name: 'x', role: 'viewer' }],
      ['DELETE', `/tokens/${tokenId}`, undefined],
      ['POST', '/instructions', { kind: 'action', pool: 'web', plugin: '@acme/x', operation: 'run' }],
      ['POST', `/instructions/${instructionId}/cancel`, undefined],
      ['POST', '/plugins/enable', { name: '@acme/restart', pool: 'web', range: '^1' }],
      ['POST', '/plugins/disable', { name: '@acme/restart', pool: 'web' }],
      ['PUT', '/secrets/OTHER', { value: 'v' }],
      ['DELETE', '/secrets/HOOK_KEY', undefined],
      ['POST', '/registry/plugins', { repo: 'file:///nowhere', ref: 'v1.0.0' }],
      ['POST', '/registry/plugins/%40acme%2Frestart/versions/1.0.0/yank', { reason: 'x' }],
    ]

    it('a viewer can change nothing: every mutating route answers 403', async () => {
      for (const [method, path, body] of mutations()) {
        const res = await call(r.operatorUrl, method, `/api/v1${path}`, {
          token: a.viewer,
          ...(body === undefined ? {} : { body }),
        })
        expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(403)
      }
      const audit = (await call(r.operatorUrl, 'GET', '/api/v1/audit?limit=500', { token: a.admin })).body
        .items
      expect(audit.filter((e: { actor: { id: string } }) => e.actor.id === a.ids.viewer)).toEqual([])
      const wf = await call(r.operatorUrl, 'GET', `/api/v1/workflows/${workflowId}`, { token: a.viewer })
      expect(wf.body.enabled).toBe(true)
    })

    it('an operator cannot manage API tokens (admin only)', async () => {
      for (const [method, path, body] of [
        ['GET', '/tokens', undefined],
        ['POST', '/tokens', { name: 'x', role: 'viewer' }],
        ['DELETE', `/tokens/${tokenId}`, undefined],
      ] as const) {
        const res = await call(r.operatorUrl, method, `/api/v1${path}`, {
          token: a.operator,
          ...(body === undefined ? {} : { body }),
        })
        expect(res.status, `${method} ${path}`).toBe(403)
      }
    })

    it('another organization sees none of it: every route with an id answers 404, every list is empty', async () => {
      const routes: [string, string, unknown][] = [
        ['GET', `/workflows/${workflowId}`, undefined],
        ['GET', '/workflows/restart-on-hook', undefined],
        ['GET', `/workflows/${workflowId}/versions`, undefined],
        ['POST', `/workflows/${workflowId}/enable`, undefined],
        ['POST', `/workflows/${workflowId}/disable`, undefined],
        ['POST', `/workflows/${workflowId}/dry-run`, { event: { data: {} } }],
        ['GET', `/runs/${runId}`, undefined],
        ['POST', `/runs/${runId}/cancel`, undefined],
        ['POST', `/runs/${runId}/retry`, undefined],
        ['POST', `/agents/${agentId}/revoke`, undefined],
        ['POST', `/agents/${agentId}/drain`, { drain: true }],
        ['DELETE', `/tokens/${tokenId}`, undefined],
        ['GET', `/instructions/${instructionId}`, undefined],
        ['POST', `/instructions/${instructionId}/cancel`, undefined],
        ['DELETE', '/secrets/HOOK_KEY', undefined],
        ['POST', '/plugins/disable', { name: '@acme/restart', pool: 'web' }],
      ]
      for (const [method, path, body] of routes) {
        const res = await call(r.operatorUrl, method, `/api/v1${path}`, {
          token: a.other,
          ...(body === undefined ? {} : { body }),
        })
        expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(404)
      }
      for (const path of ['/workflows', '/runs', '/agents', '/secrets']) {
        const res = await call(r.operatorUrl, 'GET', `/api/v1${path}`, { token: a.other })
        expect(res.body.items, path).toEqual([])
      }
      const runs = await call(r.operatorUrl, 'GET', `/api/v1/runs?workflow=${workflowId}`, { token: a.other })
      expect(runs.body.items).toEqual([])
      const audit = await call(r.operatorUrl, 'GET', '/api/v1/audit', { token: a.other })
      expect(
        audit.body.items.every((e: { target: { id: string } | null }) => e.target?.id !== workflowId),
      ).toBe(true)
      // Organization A is untouched.
      const wf = await call(r.operatorUrl, 'GET', `/api/v1/workflows/${workflowId}`, { token: a.admin })
      expect(wf.body.enabled).toBe(true)
    })

    it('no token, a malformed one or an unknown one is a 401; unknown ids are 404', async () => {
      for (const token of [undefined, 'nonsense', `stv_api_${'A'.repeat(43)}`]) {
        const res = await call(r.operatorUrl, 'GET', '/api/v1/workflows', token ? { token } : {})
        expect(res.status).toBe(401)
        expect(res.body.error.field).toBe('authorization')
      }
      expect((await call(r.operatorUrl, 'GET', `/api/v1/runs/${ZERO}`, { token: a.viewer })).status).toBe(404)
      const bad = await call(r.operatorUrl, 'GET', '/api/v1/runs/not-a-uuid', { token: a.viewer })
      expect(bad.body.error.field).toBe('params.id')
    })

    it('the registry catalog needs a viewer token; its TUF files are public for agents', async () => {
      expect((await call(r.operatorUrl, 'GET', '/api/v1/registry/plugins')).status).toBe(401)
      const list = await call(r.operatorUrl, 'GET', '/api/v1/registry/plugins', { token: a.viewer })
      expect(list.status).toBe(200)
      expect(list.body.plugins).toEqual([])
      const root = await call(r.operatorUrl, 'GET', '/api/v1/registry/tuf/1.root.json')
      expect(root.status).toBe(200)
      expect(root.body.signed._type).toBe('root')
    })

    it('with two listeners, the agent-facing one serves agents and the registry, not the operator API', async () => {
      const split = await setup.start({ operatorListen: { host: '127.0.0.1', port: 0 } })
      expect(split.url).not.toBe(split.operatorUrl)
      const tuf = await call(split.url, 'GET', '/api/v1/registry/tuf/1.root.json')
      expect(tuf.status).toBe(200)
      expect((await call(split.url, 'GET', '/api/v1/workflows', { token: split.admin })).status).toBe(404)
      expect((await call(split.url, 'GET', '/docs')).status).toBe(404)
      expect((await call(split.operatorUrl, 'GET', '/api/v1/workflows', { token: split.admin })).status).toBe(
        200,
      )
      await split.close()
    })

    it('serves its OpenAPI description listing the routes, and Swagger UI at /docs', async () => {
      const spec = await call(r.operatorUrl, 'GET', '/openapi.json')
      expect(spec.status).toBe(200)
      const paths = Object.keys(spec.body.paths)
      for (const p of [
        '/api/v1/workflows',
        '/api/v1/workflows/{idOrName}',
        '/api/v1/workflows/{idOrName}/versions',
        '/api/v1/workflows/{idOrName}/enable',
        '/api/v1/workflows/{idOrName}/disable',
        '/api/v1/workflows/{idOrName}/dry-run',
        '/api/v1/workflows/dry-run',
        '/api/v1/runs',
        '/api/v1/runs/{id}',
        '/api/v1/runs/{id}/cancel',
        '/api/v1/runs/{id}/retry',
        '/api/v1/agents',
        '/api/v1/agents/{id}/revoke',
        '/api/v1/agents/{id}/drain',
        '/api/v1/enrollment-tokens',
        '/api/v1/tokens',
        '/api/v1/tokens/{id}',
        '/api/v1/plugins',
        '/api/v1/plugins/enable',
        '/api/v1/plugins/disable',
        '/api/v1/secrets',
        '/api/v1/secrets/{name}',
        '/api/v1/audit',
        '/api/v1/audit/verify',
        '/api/v1/stream',
        '/api/v1/hooks/{id}',
        '/api/v1/registry/plugins',
      ]) {
        expect(paths, p).toContain(p)
      }
      const docs = await fetch(`${r.operatorUrl}/docs`, { redirect: 'follow' })
      expect(docs.status).toBe(200)
      expect(docs.headers.get('content-type')).toMatch(/text\/html/)
      expect(await docs.text()).toMatch(/swagger/i)
    })
  })
}
