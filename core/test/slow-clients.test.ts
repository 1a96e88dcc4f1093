import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, enroll, type Running, setups, until } from './helpers/harness.ts'

// Slow clients cannot hold the orchestrator's resources: a request must be received
// within its deadline (the long-poll and the stream, bodiless GETs, are not cut by it);
// live event streams are capped per organization and per token; a stream whose client
// stops reading is cut once its buffer is full instead of growing in memory.

/** A raw HTTP/1.1 client: writes `head`, then reports what came back and when the socket closed. */
function rawRequest(
  url: string,
  head: string,
): { socket: Socket; closed: Promise<{ text: string; ms: number }> } {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  const started = Date.now()
  let text = ''
  socket.on('data', (d) => {
    text += d.toString('latin1')
  })
  socket.write(head)
  const closed = new Promise<{ text: string; ms: number }>((resolve) => {
    socket.on('close', () => resolve({ text, ms: Date.now() - started }))
    socket.on('error', () => {})
  })
  return { socket, closed }
}

describe.each(setups())('slow clients ($name)', (setup) => {
  let r: Running
  beforeAll(async () => {
    await setup.prepare()
    r = await setup.start({
      tuning: {
        requestTimeoutMs: 1_500,
        headersTimeoutMs: 1_000,
        pollWaitMs: 1_000,
        pollWaitMaxMs: 3_000,
        streamsPerOrg: 3,
        streamsPerToken: 2,
      },
    })
  }, 60_000)
  afterAll(() => setup.cleanup())

  it('a body trickled past the request deadline is cut with 408; nothing is written', async () => {
    const host = new URL(r.operatorUrl).host
    const { socket, closed } = rawRequest(
      r.operatorUrl,
      `POST /api/v1/tokens HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${r.admin}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{"name":',
    )
    // One more byte now and then: the connection is never idle, the request never complete.
    const trickle = setInterval(() => socket.write(' '), 200)
    const { text, ms } = await closed
    clearInterval(trickle)
    expect(text).toMatch(/^HTTP\/1\.1 408/)
    expect(ms).toBeLessThan(1_500 + 2_500)
    const tokens = await call(r.operatorUrl, 'GET', '/api/v1/tokens', { token: r.admin })
    expect(tokens.body.items.map((t: { name: string }) => t.name)).not.toContain('')
  })

  it('headers trickled past their deadline are cut too (slowloris)', async () => {
    const { socket, closed } = rawRequest(r.url, 'GET /healthz HTTP/1.1\r\n')
    const trickle = setInterval(() => socket.write('X-A: b\r\n'), 200)
    const { text, ms } = await closed
    clearInterval(trickle)
    expect(text).toMatch(/^HTTP\/1\.1 408/)
    expect(ms).toBeLessThan(1_000 + 2_500)
  })

  it('a long-poll held longer than the request deadline is answered, not cut', async () => {
    const a = await enroll(r, 'action', 'slow')
    const started = Date.now()
    const res = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=2500', { token: a.credential })
    expect(res.status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_400)
  })

  it('streams are capped per token and per organization; a closed stream frees its slot', async () => {
    const mint = async (name: string) =>
      (
        await call(r.operatorUrl, 'POST', '/api/v1/tokens', {
          token: r.admin,
          body: { name, role: 'viewer' },
        })
      ).body.token as string
    const [t1, t2] = [await mint('s1'), await mint('s2')]
    const other = (await r.o.services.tenancy.createOrganization('slow-b')).adminToken
    const open = async (token: string) => {
      const ac = new AbortController()
      const res = await fetch(`${r.operatorUrl}/api/v1/stream`, {
        headers: { authorization: `Bearer ${token}` },
        signal: ac.signal,
      })
      if (res.status !== 200) await res.text()
      return { status: res.status, close: () => ac.abort(), res }
    }
    const a = await open(t1)
    const b = await open(t1)
    const c = await open(t1)
    expect([a.status, b.status, c.status]).toEqual([200, 200, 429])
    const d = await open(t2)
    expect(d.status).toBe(200)
    // The organization holds 3 now: a fourth token of it is refused, another organization is not.
    const e = await open(r.admin)
    expect(e.status).toBe(429)
    const f = await open(other)
    expect(f.status).toBe(200)
    a.close()
    // The slot comes back once the server has seen the stream end.
    const g = await until(async () => {
      const s = await open(t1)
      if (s.status === 200) return s
      return undefined
    }, 5_000)
    for (const s of [b, d, f, g]) s.close()
  })

  it('a client that stops reading loses its stream once its buffer is full', async () => {
    const host = new URL(r.operatorUrl).host
    const orgId = (
      await r.o.services.db.sql.query<{ id: string }>(
        'SELECT id FROM organizations ORDER BY created_at LIMIT 1',
      )
    ).rows[0]!.id
    const { socket, closed } = rawRequest(
      r.operatorUrl,
      `GET /api/v1/stream HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${r.admin}\r\n\r\n`,
    )
    await until(async () => r.o.services.stream.hasListeners(orgId) || undefined, 5_000)
    socket.pause()
    // Far more than the stream's buffer and the sockets' own: 40 MB of events it never reads.
    const big = { blob: 'x'.repeat(100_000) }
    for (let i = 0; i < 400 && r.o.services.stream.hasListeners(orgId); i++) {
      r.o.services.stream.publish(orgId, { type: 'run', data: big })
      await new Promise((resolve) => setImmediate(resolve))
    }
    await until(
      async () => !r.o.services.stream.hasListeners(orgId) || undefined,
      10_000,
      'the stream to be cut',
    )
    socket.destroy()
    await closed
  })
})
