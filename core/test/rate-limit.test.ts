import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { configFromEnv, resolveConfig } from '../src/config.ts'
import { call, enqueue, enroll, setups } from './helpers/harness.ts'

// Rate limits of both APIs (core/src/http/rate-limit.ts): keyed on the parsed credential,
// the agent protocol's reports never throttled like its polls, the operator API limited per
// token and per address, and X-Forwarded-For believed only from configured proxies.

describe.each(setups())('rate limits ($name)', (setup) => {
  beforeAll(() => setup.prepare(), 60_000)
  afterAll(() => setup.cleanup())

  it('keys on the parsed credential: whitespace and case variants share one budget', async () => {
    const r = await setup.start({ tuning: { rateLimitPerCredential: 3 } })
    const a = await enroll(r, 'action', 'rl')
    const spellings = [
      `Bearer ${a.credential}`,
      `Bearer  ${a.credential}`,
      `bearer ${a.credential} `,
      `BEARER\t${a.credential}`,
    ]
    const codes: number[] = []
    for (const authorization of spellings)
      codes.push(
        (await call(r.url, 'POST', '/agents/v1/heartbeat', { headers: { authorization }, body: {} })).status,
      )
    expect(codes).toEqual([200, 200, 200, 429])
    const last = await call(r.url, 'POST', '/agents/v1/heartbeat', { token: a.credential, body: {} })
    expect(last.status).toBe(429)
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(last.body.error).toMatchObject({ code: 'STAVILY_ERR_RATE_LIMITED' })
  })

  it('an agent out of poll budget still accepts, renews and reports: its work is not lost', async () => {
    const r = await setup.start({ tuning: { rateLimitPerCredential: 2 } })
    const a = await enroll(r, 'action', 'rl')
    const inst = await enqueue(r, { pool: 'rl' })
    const got = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=3000', { token: a.credential })
    expect(got.body.instructions[0].id).toBe(inst.id)
    await call(r.url, 'POST', '/agents/v1/heartbeat', { token: a.credential, body: {} })
    // The poll budget is spent: asking for more work is refused...
    expect(
      (await call(r.url, 'GET', '/agents/v1/instructions?waitMs=0', { token: a.credential })).status,
    ).toBe(429)
    // ...but the work it holds goes on: accept, two renewals and the result are answered.
    const path = `/agents/v1/instructions/${inst.id}`
    for (let i = 0; i < 3; i++) {
      const acc = await call(r.url, 'POST', `${path}/accept`, { token: a.credential, body: { attempt: 1 } })
      expect(acc.status, JSON.stringify(acc.body)).toBe(200)
    }
    const res = await call(r.url, 'POST', `${path}/result`, {
      token: a.credential,
      body: { attempt: 1, status: 'succeeded', output: { ok: true } },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const seen = await call(r.operatorUrl, 'GET', `/api/v1/instructions/${inst.id}`, { token: r.admin })
    expect(seen.body.status).toBe('succeeded')
  })

  it('the operator API is limited per token and per address', async () => {
    const r = await setup.start({ tuning: { operatorRateLimitPerToken: 3, operatorRateLimitPerIp: 5 } })
    const codes: number[] = []
    for (let i = 0; i < 4; i++)
      codes.push((await call(r.operatorUrl, 'GET', '/api/v1/agents', { token: r.admin })).status)
    expect(codes).toEqual([200, 200, 200, 429])
    // Another token from the same address has its own budget, until the address's runs out
    // (5 in all: 4 above, then one more).
    const other = (await r.o.services.tenancy.createOrganization('org-b')).adminToken
    expect((await call(r.operatorUrl, 'GET', '/api/v1/agents', { token: other })).status).toBe(200)
    const refused = await call(r.operatorUrl, 'GET', '/api/v1/agents', { token: other })
    expect(refused.status).toBe(429)
    expect(refused.body.error.message).toMatch(/^client address: too many requests/)
    // Unauthenticated floods count against the address too, before any token lookup.
    expect((await call(r.operatorUrl, 'GET', '/api/v1/agents')).status).toBe(429)
  })

  it('X-Forwarded-For is ignored unless the request comes from a trusted proxy', async () => {
    const r = await setup.start({ tuning: { operatorRateLimitPerIp: 2 } })
    const forged = async (ip: string) =>
      (await call(r.operatorUrl, 'GET', '/api/v1/agents', { headers: { 'x-forwarded-for': ip } })).status
    // 401s (no token), but counted per address: a forged header does not give a fresh budget.
    expect([await forged('10.0.0.1'), await forged('10.0.0.2'), await forged('10.0.0.3')]).toEqual([
      401, 401, 429,
    ])
    const behind = await setup.start({
      trustedProxies: ['127.0.0.1/32', '::1'],
      tuning: { operatorRateLimitPerIp: 2 },
    })
    const via = async (ip: string) =>
      call(behind.operatorUrl, 'POST', '/api/v1/enrollment-tokens', {
        token: behind.admin,
        headers: { 'x-forwarded-for': ip },
        body: { kind: 'action', pool: 'p' },
      })
    expect((await via('10.0.0.1')).status).toBe(201)
    expect((await via('10.0.0.2')).status).toBe(201)
    expect((await via('10.0.0.1')).status).toBe(201)
    expect((await via('10.0.0.1')).status).toBe(429)
    // The audit log records the client the trusted proxy named.
    const audit = await call(behind.operatorUrl, 'GET', '/api/v1/audit?action=enrollment_token.created', {
      token: behind.admin,
      headers: { 'x-forwarded-for': '10.0.0.9' },
    })
    expect(audit.status).toBe(200)
    const ips = JSON.stringify(audit.body.items)
    expect(ips).toContain('10.0.0.2')
  })
})

describe('trusted proxies setting', () => {
  it('is a list of addresses or CIDR ranges; the old trust-everyone switch is refused', () => {
    expect(resolveConfig({}).trustedProxies).toEqual([])
    expect(resolveConfig({ trustedProxies: ['10.0.0.0/8', '::1'] }).trustedProxies).toEqual([
      '10.0.0.0/8',
      '::1',
    ])
    expect(() => resolveConfig({ trustedProxies: ['10.0.0.0/33'] })).toThrow(
      /trustedProxies\[0\]: expected an IP address or CIDR range/,
    )
    expect(() => resolveConfig({ trustedProxies: ['proxy.local'] })).toThrow(/trustedProxies\[0\]/)
    expect(configFromEnv({ STAVILY_TRUSTED_PROXIES: '10.0.0.1, 192.168.0.0/16' }).trustedProxies).toEqual([
      '10.0.0.1',
      '192.168.0.0/16',
    ])
    expect(() => configFromEnv({ STAVILY_TRUST_PROXY: '1' })).toThrow(/STAVILY_TRUSTED_PROXIES/)
  })
})
