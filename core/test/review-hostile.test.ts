import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { enablePlugin, SYSTEM } from './engine/fixtures.ts'
import { call, enroll, setups } from './helpers/harness.ts'

// Hostile inputs a review of issue 12's fixes found still answering 500: values that pass
// the wire policy and the schemas but that PostgreSQL refuses, from a query parameter
// and from inside an opaque cursor (whose decoded JSON the wire policy never sees).

const cursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url')
const uuid = '00000000-0000-4000-8000-000000000000'

const sensorDoc = `
name: prom
trigger:
  sensor: { plugin: "@acme/prom", version: ^1.0.0, pool: mon, interval: 30s }
actions:
  - { id: act, plugin: "@acme/restart", version: ^1, pool: web, input: {} }
`

// Each must be a 4xx naming the field, never a 5xx.
const CASES: [path: string, field: string][] = [
  // Year 0 and years past 9999 parse in JavaScript; PostgreSQL has no year 0.
  ['/api/v1/runs?since=0000-01-01T00:00:00Z', 'since'],
  ['/api/v1/runs?since=0000-01-01', 'since'],
  [`/api/v1/runs?cursor=${cursor({ createdAt: '0000-01-01T00:00:00Z', id: uuid })}`, 'cursor'],
  // Date.parse takes '1' (and other loose text); a timestamptz does not.
  [`/api/v1/runs?cursor=${cursor({ createdAt: '1', id: uuid })}`, 'cursor'],
  [`/api/v1/runs?cursor=${cursor({ createdAt: 'x 2020', id: uuid })}`, 'cursor'],
  [`/api/v1/runs?cursor=${cursor({ createdAt: '+275760-09-13T00:00:00Z', id: uuid })}`, 'cursor'],
  // Integers inside cursors, past a PostgreSQL bigint.
  [`/api/v1/audit?cursor=${cursor(1e20)}`, 'cursor'],
  [`/api/v1/plugins?cursor=${cursor(1e20)}`, 'cursor'],
]

for (const setup of setups()) {
  describe(`review: no 5xx on ${setup.name}`, () => {
    beforeAll(() => setup.prepare())
    afterAll(() => setup.cleanup())

    it('refuses out-of-range times and cursor values with a 400 naming the field', async () => {
      const r = await setup.start()
      for (const [path, field] of CASES) {
        const res = await call(r.operatorUrl, 'GET', path, { token: r.admin })
        expect.soft(res.status, path).toBe(400)
        expect.soft(String(res.body?.error?.field ?? ''), path).toContain(field)
      }
      // A valid time and an ordinary page still work.
      expect(
        (await call(r.operatorUrl, 'GET', '/api/v1/runs?since=2024-01-01T00:00:00Z', { token: r.admin }))
          .status,
      ).toBe(200)
      expect(
        (await call(r.operatorUrl, 'GET', `/api/v1/audit?cursor=${cursor(5)}`, { token: r.admin })).status,
      ).toBe(200)
    })

    it('refuses a sensor event dated year 0000 (RFC 3339 allows it, PostgreSQL has no such date) and stores nothing', async () => {
      const r = await setup.start()
      const m = await enroll(r, 'sensor', 'mon')
      await enablePlugin(r, m.orgId, 'mon', '@acme/prom', '1.0.0')
      const sensorId = (await r.o.services.workflows.apply(m.orgId, sensorDoc, SYSTEM)).workflow.id
      const event = (occurredAt: string, dedupeKey: string) => ({
        source: '@acme/prom',
        type: 'alert',
        sensorId,
        occurredAt,
        dedupeKey,
      })
      const res = await call(r.url, 'POST', '/agents/v1/events', {
        token: m.credential,
        body: { events: [event('2024-01-01T00:00:00Z', 'ok'), event('0000-01-01T00:00:00Z', 'year-0')] },
      })
      expect(res.status).toBe(400)
      expect(res.body.error.field).toBe('body.events.1.occurredAt')
      const n = await r.o.services.db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM events')
      expect(n.rows[0]!.n).toBe(0)
      const fine = await call(r.url, 'POST', '/agents/v1/events', {
        token: m.credential,
        body: { events: [event('0001-01-02T00:00:00Z', 'year-1')] },
      })
      expect(fine.status).toBe(202)
    })

    it('counts an IPv6 client by its /64 and an IPv4-mapped address as its IPv4 address', async () => {
      // Behind a trusted proxy, so the test can name client addresses.
      const r = await setup.start({
        trustedProxies: ['127.0.0.1/32', '::1'],
        tuning: { operatorRateLimitPerIp: 2 },
      })
      const from = async (ip: string) =>
        (await call(r.operatorUrl, 'GET', '/api/v1/agents', { headers: { 'x-forwarded-for': ip } })).status
      // Three addresses of one /64 (a single host may use any of them) share one budget.
      expect([
        await from('2001:db8::1'),
        await from('2001:DB8:0:0:ffff::2'),
        await from('2001:db8::3'),
      ]).toEqual([401, 401, 429])
      // Another /64 has its own.
      expect(await from('2001:db8:0:1::1')).toBe(401)
      expect([await from('::ffff:10.0.0.7'), await from('10.0.0.7'), await from('::ffff:10.0.0.7')]).toEqual([
        401, 401, 429,
      ])
    })
  })
}
