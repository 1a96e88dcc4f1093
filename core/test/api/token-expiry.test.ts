import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expiryOf } from '../../src/cli/commands/token.ts'
import { call, type Running, setups } from '../helpers/harness.ts'

// API tokens may expire (refused with a message that says so) and record when they were
// last used, written at most once a minute per token rather than on every request.

describe.each(setups())('token expiry and last use ($name)', (setup) => {
  let r: Running
  beforeAll(async () => {
    await setup.prepare()
    r = await setup.start()
  }, 60_000)
  afterAll(() => setup.cleanup())

  const create = (body: Record<string, unknown>) =>
    call(r.operatorUrl, 'POST', '/api/v1/tokens', {
      token: r.admin,
      body: { name: 'temp', role: 'viewer', ...body },
    })
  const listed = async (id: string) =>
    (await call(r.operatorUrl, 'GET', '/api/v1/tokens', { token: r.admin })).body.items.find(
      (t: { id: string }) => t.id === id,
    )

  it('an expired token is a 401 that says it expired; before that it works', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString()
    const t = await create({ expiresAt })
    expect(t.status).toBe(201)
    expect(t.body.expiresAt).toBe(expiresAt)
    expect((await call(r.operatorUrl, 'GET', '/api/v1/agents', { token: t.body.token })).status).toBe(200)
    // An hour passes (the database's clock is the one that decides).
    await r.o.services.db.sql.query(
      "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1",
      [t.body.id],
    )
    const res = await call(r.operatorUrl, 'GET', '/api/v1/agents', { token: t.body.token })
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('STAVILY_ERR_TOKEN_EXPIRED')
    expect(res.body.error.message).toMatch(/^authorization: this API token expired at .*stavily token create/)
    expect((await listed(t.body.id)).expiresAt).not.toBeNull()
  })

  it('an expiry that is not a future ISO time is a 400 naming the field', async () => {
    for (const expiresAt of ['2001-01-01T00:00:00Z', 'tomorrow', '2030-01-01T00:00:00']) {
      const res = await create({ expiresAt })
      expect(res.status, expiresAt).toBe(400)
      expect(res.body.error.field).toBe('expiresAt')
    }
  })

  it('records the last use, at most once a minute per token', async () => {
    const t = await create({})
    expect((await listed(t.body.id)).lastUsedAt).toBeNull()
    await call(r.operatorUrl, 'GET', '/api/v1/agents', { token: t.body.token })
    const first = (await listed(t.body.id)).lastUsedAt
    expect(Date.now() - Date.parse(first)).toBeLessThan(60_000)
    // Mark the row: a second request within the minute must not write it again.
    await r.o.services.db.sql.query(
      "UPDATE api_tokens SET last_used_at = '2001-01-01T00:00:00Z' WHERE id = $1",
      [t.body.id],
    )
    await call(r.operatorUrl, 'GET', '/api/v1/agents', { token: t.body.token })
    expect((await listed(t.body.id)).lastUsedAt).toBe('2001-01-01T00:00:00.000Z')
  })
})

describe('stavily token create --expires-in', () => {
  const now = Date.parse('2026-01-01T00:00:00Z')
  it('takes durations and ISO times, and names the option otherwise', () => {
    expect(expiryOf('30d', now)).toBe('2026-01-31T00:00:00.000Z')
    expect(expiryOf('12h', now)).toBe('2026-01-01T12:00:00.000Z')
    expect(expiryOf('2w', now)).toBe('2026-01-15T00:00:00.000Z')
    expect(expiryOf('2027-02-03T04:05:06+01:00', now)).toBe('2027-02-03T03:05:06.000Z')
    expect(() => expiryOf('30 days', now)).toThrow(/--expires-in: expected a duration such as 30d/)
  })
})

describe.each(setups())('a live stream whose token expires ($name)', (setup) => {
  let r: Running
  beforeAll(async () => {
    await setup.prepare()
    r = await setup.start()
  }, 60_000)
  afterAll(() => setup.cleanup())

  it('is ended by the server at its next token check, not kept streaming', async () => {
    const t = await call(r.operatorUrl, 'POST', '/api/v1/tokens', {
      token: r.admin,
      body: { name: 'watcher', role: 'viewer', expiresAt: new Date(Date.now() + 3_600_000).toISOString() },
    })
    expect(t.status).toBe(201)
    const res = await fetch(`${r.operatorUrl}/api/v1/stream`, {
      headers: { authorization: `Bearer ${t.body.token}` },
      signal: AbortSignal.timeout(60_000),
    })
    expect(res.status).toBe(200)
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    while (!text.includes(': connected')) text += decoder.decode((await reader.read()).value)
    // The hour passes while the stream is open (the database's clock decides).
    await r.o.services.db.sql.query(
      "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1",
      [t.body.id],
    )
    // The stream's heartbeat re-checks its token (every 15 s): the server ends the stream.
    for (;;) {
      const { done } = await reader.read()
      if (done) break
    }
  }, 60_000)
})
