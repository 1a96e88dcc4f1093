import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { enablePlugin, SYSTEM } from './engine/fixtures.ts'
import { call, enqueue, enroll, type Running, setups } from './helpers/harness.ts'

// A UUID the schemas accept in upper case finds its row like the lower-case one (issue 12
// review): an upper-case sensor id got 403 "not bound" because the binding check compares
// with the stored lower-case id in memory. Ids are lower-cased at the validation boundary.

const sensorDoc = `
name: prom
trigger:
  sensor:
    plugin: "@acme/prom"
    version: ^1.0.0
    pool: mon
    interval: 30s
actions:
  - { id: act, plugin: "@acme/restart", version: ^1, pool: web, input: {} }
`

for (const setup of setups()) {
  describe(`upper-case UUIDs on ${setup.name}`, () => {
    let r: Running
    let mon: { credential: string; orgId: string }
    let sensor: string

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start()
      mon = await enroll(r, 'sensor', 'mon')
      await enablePlugin(r, mon.orgId, 'web', '@acme/restart', '1.0.0')
      await enablePlugin(r, mon.orgId, 'mon', '@acme/prom', '1.0.0')
      sensor = (await r.o.services.workflows.apply(mon.orgId, sensorDoc, SYSTEM)).workflow.id
    })
    afterAll(() => setup.cleanup())

    it('accepts an event naming its sensor in upper case, as the same sensor', async () => {
      const report = (sensorId: string) =>
        call(r.url, 'POST', '/agents/v1/events', {
          token: mon.credential,
          body: { events: [{ source: '@acme/prom', type: 'alert', sensorId, dedupeKey: 'k-1' }] },
        })
      const upper = await report(sensor.toUpperCase())
      expect(upper.status, JSON.stringify(upper.body)).toBe(202)
      // The lower-case spelling is the same sensor: a duplicate with the stored id.
      const lower = await report(sensor)
      expect(lower.body).toEqual({ ids: upper.body.ids, duplicates: 1 })
      const stored = await r.o.services.db.sql.query<{ sensor_id: string }>(
        'SELECT sensor_id::text FROM events WHERE dedupe_key = $1',
        ['k-1'],
      )
      expect(stored.rows).toEqual([{ sensor_id: sensor }])
    })

    it('finds a row by an upper-case path id on the operator API and answers with the stored id', async () => {
      const ins = await enqueue(r, { pool: 'web' })
      const got = await call(r.operatorUrl, 'GET', `/api/v1/instructions/${ins.id.toUpperCase()}`, {
        token: r.admin,
      })
      expect(got.status).toBe(200)
      expect(got.body.id).toBe(ins.id)
    })
  })
}
