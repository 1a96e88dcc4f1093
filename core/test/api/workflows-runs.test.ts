import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type Running, setups, until } from '../helpers/harness.ts'
import { type Actors, actors, deliver, HOOK_SECRET, readStream, webhookWorkflow } from './helpers.ts'
import { PluginRepo } from './plugin-repo.ts'

// Workflows and runs through the operator API over real HTTP: apply, read, version,
// enable/disable, dry runs, webhook deliveries (raw-body HMAC), runs listed, read,
// cancelled and retried, and the live stream seeing a run.

for (const setup of setups()) {
  describe(`workflows and runs API on ${setup.name}`, () => {
    let r: Running
    let a: Actors
    let api: (method: string, path: string, opts?: Parameters<typeof call>[3]) => ReturnType<typeof call>
    let workflowId: string
    const repo = new PluginRepo('@acme/restart')

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start({ registry: { remotes: { allowFile: true } } }) // publishes from file://
      a = await actors(r)
      api = (method, path, opts = {}) =>
        call(r.operatorUrl, method, `/api/v1${path}`, { token: a.operator, ...opts })
      const s = await api('PUT', '/secrets/HOOK_KEY', { body: { value: HOOK_SECRET } })
      expect(s.status).toBe(201)
      // The action's plugin is enabled in pool web, where no agent serves: runs stay open.
      const pub = await api('POST', '/registry/plugins', {
        body: { repo: repo.url, ref: repo.release('1.0.0') },
      })
      expect(pub.status, JSON.stringify(pub.body)).toBe(201)
      const en = await api('POST', '/plugins/enable', {
        body: { name: '@acme/restart', pool: 'web', range: '^1' },
      })
      expect(en.status).toBe(200)
    })
    afterAll(async () => {
      await setup.cleanup()
      repo.remove()
    })

    it('applies a document: 201 created, 200 unchanged, 200 with a new version when edited', async () => {
      const first = await api('POST', '/workflows', { body: { document: webhookWorkflow() } })
      expect(first.status, JSON.stringify(first.body)).toBe(201)
      expect(first.body).toMatchObject({
        workflow: { name: 'restart-on-hook', enabled: true, version: 1, triggerKind: 'webhook' },
        version: 1,
        changed: true,
      })
      expect(Array.isArray(first.body.warnings)).toBe(true)
      workflowId = first.body.workflow.id

      const same = await api('POST', '/workflows', { body: { document: webhookWorkflow() } })
      expect(same.status).toBe(200)
      expect(same.body).toMatchObject({ version: 1, changed: false })

      const edited = await api('POST', '/workflows', {
        body: { document: webhookWorkflow('restart-on-hook', 'concurrency: 5\n') },
      })
      expect(edited.status).toBe(200)
      expect(edited.body).toMatchObject({ version: 2, changed: true, workflow: { id: workflowId } })
    })

    it('refuses a bad document naming the field and line, and bad bodies naming the field', async () => {
      const bad = await api('POST', '/workflows', {
        body: { document: webhookWorkflow().replace('version: ^1.0.0', 'version: not-a-range') },
      })
      expect(bad.status).toBe(400)
      expect(bad.body.error.code).toBe('STAVILY_ERR_WORKFLOW_INVALID')
      expect(JSON.stringify(bad.body.error)).toMatch(/actions\[0\]\.version/)
      expect(JSON.stringify(bad.body.error)).toMatch(/line \d+/)

      const missing = await api('POST', '/workflows', { body: {} })
      expect(missing.status).toBe(400)
      expect(missing.body.error).toMatchObject({ code: 'STAVILY_ERR_VALIDATION', field: 'body.document' })
      const extra = await api('POST', '/workflows', { body: { document: 'x', extra: 1 } })
      expect(extra.body.error.field).toBe('body.extra')
    })

    it('lists, reads by id and by name, reads an older version and the versions', async () => {
      const list = await api('GET', '/workflows')
      expect(list.status).toBe(200)
      expect(list.body.items.map((w: { name: string }) => w.name)).toEqual(['restart-on-hook'])
      expect(list.body.nextCursor).toBeNull()

      const byName = await api('GET', '/workflows/restart-on-hook')
      expect(byName.status).toBe(200)
      expect(byName.body).toMatchObject({ id: workflowId, version: 2, shownVersion: 2 })
      expect(byName.body.document).toContain('concurrency: 5')
      expect(byName.body.definition).toMatchObject({ name: 'restart-on-hook', concurrency: 5 })
      const byId = await api('GET', `/workflows/${workflowId}?version=1`)
      expect(byId.body).toMatchObject({ shownVersion: 1 })
      expect(byId.body.document).not.toContain('concurrency')

      const versions = await api('GET', `/workflows/${workflowId}/versions`)
      expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([1, 2])
      const page = await api('GET', `/workflows/${workflowId}/versions?limit=1`)
      expect(page.body.items.map((v: { version: number }) => v.version)).toEqual([1])
      const next = await api(
        'GET',
        `/workflows/${workflowId}/versions?limit=1&cursor=${page.body.nextCursor}`,
      )
      expect(next.body.items.map((v: { version: number }) => v.version)).toEqual([2])
      expect(next.body.nextCursor).toBeNull()

      expect((await api('GET', '/workflows/no-such-workflow')).status).toBe(404)
      expect((await api('GET', `/workflows/${workflowId}?version=99`)).status).toBe(404)
      const badVersion = await api('GET', `/workflows/${workflowId}?version=zero`)
      expect(badVersion.body.error.field).toBe('query.version')
      const badCursor = await api('GET', '/workflows?cursor=bm9wZQ')
      expect(badCursor.body.error).toMatchObject({
        code: 'STAVILY_ERR_INVALID_ARGUMENT',
        field: 'query.cursor',
      })
    })

    it('dry-runs a saved workflow and an unsaved document without starting a run', async () => {
      const saved = await api('POST', `/workflows/${workflowId}/dry-run`, {
        token: a.viewer,
        body: { event: { data: { service: 'nginx' } } },
      })
      expect(saved.status, JSON.stringify(saved.body)).toBe(200)
      expect(saved.body.triggered).toBe(true)
      expect(saved.body.actions[0]).toMatchObject({
        id: 'restart',
        decision: 'run',
        input: { service: 'nginx' },
      })

      const filtered = await api('POST', '/workflows/dry-run', {
        token: a.viewer,
        body: { document: webhookWorkflow('unsaved'), event: { data: { service: 'ignored' } } },
      })
      expect(filtered.status).toBe(200)
      expect(filtered.body.triggered).toBe(false)
      expect((await api('GET', '/workflows/unsaved')).status).toBe(404)

      const noEvent = await api('POST', `/workflows/${workflowId}/dry-run`, { body: {} })
      expect(noEvent.body.error.field).toBe('body.event')
      const runs = await api('GET', '/runs')
      expect(runs.body.items).toEqual([])
    })

    it('disables and enables; a disabled workflow refuses deliveries', async () => {
      const off = await api('POST', `/workflows/${workflowId}/disable`)
      expect(off.status).toBe(200)
      expect(off.body).toMatchObject({ id: workflowId, enabled: false })
      const refused = await deliver(r, workflowId, { service: 'nginx' })
      expect(refused.status).toBe(409)
      const on = await api('POST', '/workflows/restart-on-hook/enable')
      expect(on.body).toMatchObject({ enabled: true })
    })

    it('takes signed webhook deliveries on the raw body, and refuses bad ones with the right status', async () => {
      const ok = await deliver(r, workflowId, { service: 'nginx' })
      expect(ok.status, JSON.stringify(ok.body)).toBe(202)
      expect(ok.body).toMatchObject({ accepted: true })
      expect(typeof ok.body.runId).toBe('string')

      const filtered = await deliver(r, workflowId, { service: 'ignored' })
      expect(filtered.body).toMatchObject({ accepted: true, runId: null, reason: 'filtered' })

      // Whitespace the sender signed is part of the signature: the raw bytes are verified.
      const raw = '{ "service" :  "spaced" }'
      const { signWebhook } = await import('../../src/workflows/webhook/signature.ts')
      const spaced = await call(r.operatorUrl, 'POST', `/api/v1/hooks/${workflowId}`, {
        raw,
        headers: { 'stavily-signature': signWebhook(HOOK_SECRET, raw, Math.floor(Date.now() / 1000)) },
      })
      expect(spaced.status).toBe(202)

      const wrongKey = await deliver(r, workflowId, { service: 'nginx' }, 'not-the-key')
      expect(wrongKey.status).toBe(401)
      const unsigned = await call(r.operatorUrl, 'POST', `/api/v1/hooks/${workflowId}`, { body: { a: 1 } })
      expect(unsigned.status).toBe(401)
      const text = await call(r.operatorUrl, 'POST', `/api/v1/hooks/${workflowId}`, {
        raw: 'hello',
        headers: { 'content-type': 'text/plain' },
      })
      expect(text.status).toBe(415)
      expect(text.body.error.code).toBe('STAVILY_ERR_UNSUPPORTED_MEDIA_TYPE')
      const broken = await call(r.operatorUrl, 'POST', `/api/v1/hooks/${workflowId}`, { raw: '{"a":' })
      expect(broken.status).toBe(400)
      expect(broken.body.error.field).toBe('body')
      const huge = await call(r.operatorUrl, 'POST', `/api/v1/hooks/${workflowId}`, {
        raw: JSON.stringify({ blob: 'x'.repeat(1_100_000) }),
      })
      expect(huge.status).toBe(413)
      // No hook there: the same 401 as a wrong signature (no oracle for which hooks exist).
      const unknown = await deliver(r, '00000000-0000-4000-8000-000000000000', { a: 1 })
      expect(unknown.status).toBe(401)
      const notUuid = await call(r.operatorUrl, 'POST', '/api/v1/hooks/nope', { body: { a: 1 } })
      expect(notUuid.body.error.field).toBe('params.id')
    })

    it('lists runs with filters and pages, reads one with its steps, cancels and retries it', async () => {
      const runs = await until(async () => {
        const res = await api('GET', `/runs?workflow=${workflowId}`, { token: a.viewer })
        return res.body.items?.length >= 2 ? res.body.items : undefined
      })
      for (const run of runs) expect(run.workflowId).toBe(workflowId)
      const newest = runs[0]
      const one = await api('GET', `/runs/${newest.id}`, { token: a.viewer })
      expect(one.status).toBe(200)
      expect(one.body).toMatchObject({ id: newest.id, workflowId, workflowVersion: 2 })
      expect(Array.isArray(one.body.steps)).toBe(true)

      const page = await api('GET', '/runs?limit=1', { token: a.viewer })
      expect(page.body.items).toHaveLength(1)
      const rest = await api('GET', `/runs?limit=50&cursor=${page.body.nextCursor}`, { token: a.viewer })
      expect(rest.body.items.map((x: { id: string }) => x.id)).not.toContain(page.body.items[0].id)
      expect(rest.body.items.length + 1).toBe(runs.length)

      const byName = await api('GET', '/runs?workflow=restart-on-hook', { token: a.viewer })
      expect(byName.body.items.length).toBe(runs.length)
      const future = await api('GET', '/runs?since=2999-01-01T00:00:00Z', { token: a.viewer })
      expect(future.body.items).toEqual([])
      const badStatus = await api('GET', '/runs?status=sleeping', { token: a.viewer })
      expect(badStatus.body.error.field).toBe('query.status')

      // No agent serves pool web, so the newest run is still open: it can be cancelled, once.
      expect(newest.status).toBe('running')
      const cancelled = await api('POST', `/runs/${newest.id}/cancel`)
      expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200)
      expect(cancelled.body).toMatchObject({ id: newest.id, status: 'cancelled' })
      const again = await api('POST', `/runs/${newest.id}/cancel`)
      expect(again.status).toBe(409)

      const retried = await api('POST', `/runs/${newest.id}/retry`)
      expect(retried.status).toBe(201)
      expect(retried.body.id).not.toBe(newest.id)
      expect(retried.body).toMatchObject({ workflowId, workflowVersion: newest.workflowVersion })
      expect((await api('GET', '/runs/00000000-0000-4000-8000-000000000000')).status).toBe(404)

      // The changes are on the audit log with the operator's token and address; it verifies.
      const audit = await api('GET', '/audit?limit=500', { token: a.viewer })
      const find = (action: string, targetId: string) =>
        audit.body.items.find(
          (e: { action: string; target: { id: string } | null }) =>
            e.action === action && e.target?.id === targetId,
        )
      for (const [action, target] of [
        ['workflow.created', workflowId],
        ['workflow.applied', workflowId],
        ['workflow.disabled', workflowId],
        ['workflow.enabled', workflowId],
        ['run.cancelled', newest.id],
      ]) {
        expect(find(action!, target!), action).toMatchObject({
          actor: { type: 'api_token', id: a.ids.operator },
          ip: expect.stringMatching(/127\.0\.0\.1/),
        })
      }
      expect((await api('GET', '/audit/verify', { token: a.viewer })).body).toMatchObject({ ok: true })
    })

    it('streams run events over SSE to a client authenticated with ?token=', async () => {
      let seen: { runId: string; status: string; workflowId: string } | undefined
      const signal = AbortSignal.timeout(20_000)
      await readStream(
        `${r.operatorUrl}/api/v1/stream?token=${a.viewer}`,
        async () => {
          // The subscription may reach Redis a moment after the stream opens: deliver until
          // one of these runs shows up on the stream.
          while (!seen && !signal.aborted) {
            await deliver(r, workflowId, { service: `sse-${Date.now()}` })
            await new Promise((done) => setTimeout(done, 200))
          }
        },
        (e) => {
          // A run's first event can arrive before its delivery is answered: match the workflow.
          const data = e.data as { runId: string; status: string; workflowId: string }
          if (e.event === 'run' && data.workflowId === workflowId) seen = data
          return seen !== undefined
        },
        signal,
      )
      expect(seen).toMatchObject({ runId: expect.any(String), status: expect.any(String), workflowId })

      const denied = await fetch(`${r.operatorUrl}/api/v1/stream`)
      expect(denied.status).toBe(401)
      await denied.body?.cancel()
    })

    // Last: it shuts the orchestrator down.
    it('ends open streams when the server closes, so a graceful shutdown does not wait on them', async () => {
      const res = await fetch(`${r.operatorUrl}/api/v1/stream`, {
        headers: { authorization: `Bearer ${a.viewer}` },
      })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
      const text = res.text()
      await r.close()
      expect(await text).toContain(': connected')
    })
  })
}
