import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, enroll, type Running, setups, until } from './helpers/harness.ts'

// Agents report the plugins they have loaded with each heartbeat; the orchestrator keeps
// the last report, shows it in GET /agents and puts every change an operator would see
// (enrolled, presence, loaded plugins) on the organization's live stream as `agent` events.

type AgentEvent = {
  change: string
  id: string
  status: string
  drain: boolean
  loadedPlugins: { name: string; version: string }[] | null
}

/** A stream of the organization's events, collecting `agent` events as they arrive. */
async function agentEvents(r: Running, token = r.admin) {
  const abort = new AbortController()
  const res = await fetch(`${r.operatorUrl}/api/v1/stream`, {
    headers: { authorization: `Bearer ${token}` },
    signal: abort.signal,
  })
  expect(res.status).toBe(200)
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  const s = { events: [] as AgentEvent[], connected: false, close: () => abort.abort() }
  void (async () => {
    let buffer = ''
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        buffer += decoder.decode(value, { stream: true })
        for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          if (block.includes(': connected')) s.connected = true
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (/^event: agent$/m.test(block) && data) s.events.push(JSON.parse(data))
        }
      }
    } catch {
      // Aborted by close().
    }
  })()
  await until(async () => s.connected, 10_000, 'stream connected')
  return s
}

for (const setup of setups()) {
  describe(`agent loaded plugins and live agent events on ${setup.name}`, () => {
    let r: Running
    let reporter: Awaited<ReturnType<typeof enroll>> | undefined
    const beat = (credential: string, body: unknown) =>
      call(r.url, 'POST', '/agents/v1/heartbeat', { token: credential, body })
    const listed = async (id: string) => {
      const res = await call(r.operatorUrl, 'GET', '/api/v1/agents?limit=500', { token: r.admin })
      expect(res.status).toBe(200)
      return (res.body.items as { id: string; loadedPlugins: unknown }[]).find((a) => a.id === id)
    }

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start()
    })
    afterAll(async () => {
      await r?.close()
      await setup.cleanup()
    })

    it('streams registered, loaded plugins and presence changes; GET /agents shows the loaded set', async () => {
      const stream = await agentEvents(r)
      try {
        // The subscription may reach Redis a moment after the stream says connected: enroll
        // until one registration shows (each enrollment is its own agent).
        let agent: Awaited<ReturnType<typeof enroll>> | undefined
        await until(
          async () => {
            const a = await enroll(r, 'action', 'live', { name: `live-${Date.now()}` })
            const seen = await until(async () => stream.events.some((e) => e.id === a.id), 2_000).catch(
              () => false,
            )
            if (seen) agent = a
            return agent
          },
          20_000,
          'a registered event',
        )
        const id = agent!.id
        const ofAgent = () => stream.events.filter((e) => e.id === id)
        expect(ofAgent()[0]).toMatchObject({ change: 'registered', status: 'online', loadedPlugins: null })

        const loaded = [
          { name: '@acme/restart', version: '1.2.0' },
          { name: '@acme/notify', version: '0.3.1' },
        ]
        expect((await beat(agent!.credential, { version: '1.0.0', loadedPlugins: loaded })).status).toBe(200)
        // Stored in one order, so the same set reported again is no change.
        const sorted = [loaded[1], loaded[0]]
        await until(async () => ofAgent().length === 2, 10_000, 'plugins event')
        expect(ofAgent()[1]).toMatchObject({ change: 'plugins', loadedPlugins: sorted })
        expect((await listed(id))?.loadedPlugins).toEqual(sorted)

        // The same set, in another order, and a heartbeat without the field (an older
        // agent's): no event, the set stays. The drain's event is the next one.
        expect((await beat(agent!.credential, { loadedPlugins: sorted })).status).toBe(200)
        expect((await beat(agent!.credential, { version: '1.0.0' })).status).toBe(200)
        expect((await listed(id))?.loadedPlugins).toEqual(sorted)
        const drained = await call(r.operatorUrl, 'POST', `/api/v1/agents/${id}/drain`, {
          token: r.admin,
          body: { drain: true },
        })
        expect(drained.status).toBe(200)
        await until(async () => ofAgent().length === 3, 10_000, 'drain event')
        expect(ofAgent()[2]).toMatchObject({ change: 'presence', drain: true, status: 'online' })

        // An empty set is a change (it unloaded everything), and is not "never reported".
        expect((await beat(agent!.credential, { loadedPlugins: [] })).status).toBe(200)
        await until(async () => ofAgent().length === 4, 10_000, 'plugins event')
        expect(ofAgent()[3]).toMatchObject({ change: 'plugins', loadedPlugins: [] })

        const revoked = await call(r.operatorUrl, 'POST', `/api/v1/agents/${id}/revoke`, { token: r.admin })
        expect(revoked.status).toBe(200)
        await until(async () => ofAgent().length === 5, 10_000, 'revoke event')
        expect(ofAgent()[4]).toMatchObject({ change: 'presence', status: 'revoked' })
      } finally {
        stream.close()
      }
    })

    it('streams an agent marked lost and its return online', async () => {
      // An instance of its own, quick to call an agent lost and with no grace after start.
      const quick = await setup.start({ tuning: { lostAfterMs: 1_500, restartGraceMs: 0 } })
      const stream = await agentEvents(quick)
      try {
        const a = await enroll(quick, 'action', 'lost', { name: 'goes-quiet' })
        const ofAgent = () => stream.events.filter((e) => e.id === a.id)
        const lost = await until(
          async () => ofAgent().find((e) => e.change === 'presence' && e.status === 'lost'),
          20_000,
          'lost event',
        )
        expect(lost).toMatchObject({ online: false })
        expect(
          (await call(quick.url, 'POST', '/agents/v1/heartbeat', { token: a.credential, body: {} })).status,
        ).toBe(200)
        await until(
          async () => ofAgent().find((e) => e.change === 'presence' && e.status === 'online'),
          10_000,
          'back online event',
        )
      } finally {
        stream.close()
      }
    })

    it('an agent that never reports its plugins works and shows none reported', async () => {
      const a = await enroll(r, 'action', 'old', { name: 'old-agent' })
      expect((await beat(a.credential, { version: '0.9.0' })).status).toBe(200)
      expect((await listed(a.id))?.loadedPlugins).toBeNull()
    })

    it.each([
      [
        'too many',
        Array.from({ length: 501 }, (_, i) => ({ name: `p${i}`, version: '1.0.0' })),
        'body.loadedPlugins',
      ],
      ['a name too long', [{ name: `p${'x'.repeat(214)}`, version: '1.0.0' }], 'body.loadedPlugins.0.name'],
      ['a version too long', [{ name: 'p', version: '1'.repeat(101) }], 'body.loadedPlugins.0.version'],
      [
        'an unknown field',
        [{ name: 'p', version: '1.0.0', digest: 'x' }],
        'body.loadedPlugins.0.digest: unknown field',
      ],
      ['not a list', { name: 'p' }, 'body.loadedPlugins'],
    ])('refuses loaded plugins with %s: a 400 naming the field', async (_, loadedPlugins, field) => {
      reporter ??= await enroll(r, 'action', 'bad', { name: 'bad-report' })
      const res = await beat(reporter.credential, { loadedPlugins })
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('STAVILY_ERR_VALIDATION')
      expect(res.body.error.message).toContain(field)
    })
  })
}
