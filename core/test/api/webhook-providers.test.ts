import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type Running, setups } from '../helpers/harness.ts'

// Forges and Alertmanager start workflows over real HTTP, on both backends, authenticated
// the way each sends (issue 14: Git commit and Prometheus alert triggers): a GitHub push
// starts one run with the push as its event and re-sending it starts nothing new; each alert
// of an Alertmanager group starts its own run, its resolution another; a wrong credential,
// or the right one for a hook of another provider, is the same 401 as for no hook at all.

const SECRET = 'forge-secret-0123456789'
const hmacHex = (raw: string) => createHmac('sha256', SECRET).update(raw).digest('hex')

const workflow = (name: string, provider: string, filter?: string) => `name: ${name}
trigger:
  webhook:
    secret: FORGE_KEY
    provider: ${provider}
${filter ? `    filter: ${filter}\n` : ''}actions:
  - id: deploy
    plugin: "@acme/deploy"
    version: ^1.0.0
    pool: web
    input:
      ref: \${{ trigger.branch }}
`

const push = {
  ref: 'refs/heads/main',
  before: 'a'.repeat(40),
  after: 'b'.repeat(40),
  repository: { full_name: 'acme/web', clone_url: 'http://127.0.0.1/acme/web.git' },
  pusher: { name: 'ada', email: 'ada@example.com' },
  commits: [{ id: 'b'.repeat(40), message: 'Fix it', author: { name: 'Ada', email: 'ada@example.com' } }],
}

const alerts = (status: 'firing' | 'resolved') => ({
  version: '4',
  status,
  receiver: 'stavily',
  groupKey: '{}:{alertname="Down"}',
  alerts: ['web', 'api'].map((service) => ({
    status,
    labels: { alertname: 'Down', service },
    annotations: { summary: `${service} is down` },
    startsAt: '2026-12-07T09:00:00Z',
    endsAt: status === 'resolved' ? '2026-12-07T09:05:00Z' : '0001-01-01T00:00:00Z',
    fingerprint: `fp-${service}`,
  })),
})

for (const setup of setups()) {
  describe(`webhooks from forges and Alertmanager on ${setup.name}`, () => {
    let r: Running
    const ids: Record<string, string> = {}
    const api = (method: string, path: string, body?: unknown) =>
      call(r.operatorUrl, method, `/api/v1${path}`, { token: r.admin, ...(body ? { body } : {}) })
    const post = (id: string, raw: string, headers: Record<string, string>) =>
      call(r.operatorUrl, 'POST', `/api/v1/hooks/${id}`, {
        raw,
        headers: { 'content-type': 'application/json', ...headers },
      })
    const eventOf = async (runId: string) => (await api('GET', `/runs/${runId}`)).body.event

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start()
      expect((await api('PUT', '/secrets/FORGE_KEY', { value: SECRET })).status).toBe(201)
      for (const [name, provider, filter] of [
        ['github', 'github', "trigger.branch == 'main'"],
        ['gitlab', 'gitlab'],
        ['gitea', 'gitea'],
        ['alerts', 'alertmanager'],
        ['plain', 'stavily'],
      ] as const) {
        const res = await api('POST', '/workflows', { document: workflow(`on-${name}`, provider, filter) })
        expect(res.status, JSON.stringify(res.body)).toBe(201)
        ids[name] = res.body.workflow.id
      }
    })
    afterAll(() => setup.cleanup())

    it('a GitHub push starts one run with the push as its event; sent again, it answers the same run', async () => {
      const raw = JSON.stringify(push)
      const headers = { 'x-hub-signature-256': `sha256=${hmacHex(raw)}`, 'x-github-event': 'push' }
      const first = await post(ids.github!, raw, { ...headers, 'x-github-delivery': 'd-1' })
      expect(first.status, JSON.stringify(first.body)).toBe(202)
      expect(typeof first.body.runId).toBe('string')
      const event = await eventOf(first.body.runId)
      expect(event).toMatchObject({
        source: 'github',
        type: 'push',
        data: { repository: 'acme/web', branch: 'main', commits: [{ message: 'Fix it' }] },
      })
      const again = await post(ids.github!, raw, { ...headers, 'x-github-delivery': 'd-2' })
      expect(again.status).toBe(202)
      expect(again.body.runId).toBe(first.body.runId)
      const runs = await api('GET', `/runs?workflow=${ids.github}`)
      expect(runs.body.items).toHaveLength(1)
    })

    it("the trigger's filter sees the mapped push: a push to another branch starts nothing", async () => {
      const raw = JSON.stringify({ ...push, ref: 'refs/heads/feature', after: 'c'.repeat(40) })
      const res = await post(ids.github!, raw, {
        'x-hub-signature-256': `sha256=${hmacHex(raw)}`,
        'x-github-event': 'push',
      })
      expect(res.status).toBe(202)
      expect(res.body).toMatchObject({ runId: null, reason: 'filtered' })
    })

    it('GitLab (X-Gitlab-Token) and Gitea (X-Gitea-Signature) pushes start runs', async () => {
      const gitlabBody = JSON.stringify({
        object_kind: 'push',
        ref: 'refs/heads/main',
        before: '1'.repeat(40),
        after: '2'.repeat(40),
        user_name: 'Grace',
        project: { path_with_namespace: 'ops/api' },
        commits: [],
      })
      const gl = await post(ids.gitlab!, gitlabBody, {
        'x-gitlab-token': SECRET,
        'x-gitlab-event': 'Push Hook',
      })
      expect(gl.status, JSON.stringify(gl.body)).toBe(202)
      expect(await eventOf(gl.body.runId)).toMatchObject({
        source: 'gitlab',
        data: { repository: 'ops/api' },
      })
      const raw = JSON.stringify(push)
      const gt = await post(ids.gitea!, raw, { 'x-gitea-signature': hmacHex(raw), 'x-gitea-event': 'push' })
      expect(gt.status, JSON.stringify(gt.body)).toBe(202)
      expect(await eventOf(gt.body.runId)).toMatchObject({ source: 'gitea', data: { branch: 'main' } })
    })

    it('an Alertmanager group starts one run per alert; its resolution one more each; a repeat nothing', async () => {
      const send = (status: 'firing' | 'resolved', authorization: string) =>
        post(ids.alerts!, JSON.stringify(alerts(status)), { authorization })
      const firing = await send('firing', `Bearer ${SECRET}`)
      expect(firing.status, JSON.stringify(firing.body)).toBe(202)
      expect(firing.body.runIds).toHaveLength(2)
      const event = await eventOf(firing.body.runIds[0])
      expect(event).toMatchObject({
        source: 'alertmanager',
        type: 'alert',
        data: { status: 'firing', labels: { service: 'web' }, fingerprint: 'fp-web' },
      })
      const repeat = await send('firing', `Bearer ${SECRET}`)
      expect(repeat.body.runIds).toEqual(firing.body.runIds)
      const basic = `Basic ${Buffer.from(`alertmanager:${SECRET}`).toString('base64')}`
      const resolved = await send('resolved', basic)
      expect(resolved.status).toBe(202)
      expect(resolved.body.runIds).toHaveLength(2)
      expect(resolved.body.runIds.some((id: string) => firing.body.runIds.includes(id))).toBe(false)
      expect((await api('GET', `/runs?workflow=${ids.alerts}`)).body.items).toHaveLength(4)
    })

    it('a body missing what the provider sends is a 400 naming the field, and starts nothing', async () => {
      const raw = JSON.stringify({ version: '4', alerts: [{ status: 'firing', labels: {} }] })
      const res = await post(ids.alerts!, raw, { authorization: `Bearer ${SECRET}` })
      expect(res.status).toBe(400)
      expect(res.body.error.message).toBe('body.alerts.0.fingerprint: expected a string')
    })

    it('a wrong credential, a right one for another provider’s hook, and no hook at all: the same 401', async () => {
      const raw = JSON.stringify(push)
      const signed = { 'x-hub-signature-256': `sha256=${hmacHex(raw)}`, 'x-github-event': 'push' }
      const wrong = await post(ids.github!, raw, {
        ...signed,
        'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
      })
      const otherProvider = await post(ids.gitlab!, raw, signed)
      const stavilyHook = await post(ids.plain!, raw, signed)
      const noHook = await post('00000000-0000-4000-8000-000000000000', raw, signed)
      const token = await post(ids.alerts!, raw, { authorization: 'Bearer not-the-secret' })
      for (const res of [wrong, otherProvider, stavilyHook, noHook, token]) {
        expect(res.status).toBe(401)
        expect(res.body).toEqual(noHook.body)
      }
      expect((await api('GET', `/runs?workflow=${ids.gitlab}`)).body.items).toHaveLength(1)
    })
  })
}
