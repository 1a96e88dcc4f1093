import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { enablePlugin, SYSTEM } from './engine/fixtures.ts'
import { call, enroll, type Running, setups } from './helpers/harness.ts'

// Sensor events are bound to who sent them (issue 12, item 3): an event naming a sensor is
// accepted only from an agent of that sensor's pool, with the sensor's plugin as source,
// and dedupe keys are scoped to the sensor.

const sensorDoc = (name: string, plugin: string, pool: string) => `
name: ${name}
trigger:
  sensor:
    plugin: "${plugin}"
    version: ^1.0.0
    pool: ${pool}
    interval: 30s
actions:
  - { id: act, plugin: "@acme/restart", version: ^1, pool: web, input: {} }
`

for (const setup of setups()) {
  describe(`sensor events bound to their sender on ${setup.name}`, () => {
    let r: Running
    let org: string
    let prom: string
    let promToo: string
    let logs: string
    let mon: { credential: string }
    let stranger: { credential: string }

    const report = (credential: string, events: object[]) =>
      call(r.url, 'POST', '/agents/v1/events', { token: credential, body: { events } })
    const stored = async (sensorId: string | null, key: string) =>
      (
        await r.o.services.db.sql.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM events WHERE sensor_id IS NOT DISTINCT FROM $1 AND dedupe_key = $2',
          [sensorId, key],
        )
      ).rows[0]!.n

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start()
      const m = await enroll(r, 'sensor', 'mon')
      mon = m
      org = m.orgId
      stranger = await enroll(r, 'sensor', 'elsewhere')
      for (const [pool, name] of [
        ['web', '@acme/restart'],
        ['mon', '@acme/prom'],
        ['mon', '@acme/logs'],
        ['elsewhere', '@acme/prom'],
      ] as const)
        await enablePlugin(r, org, pool, name, '1.0.0')
      prom = (await r.o.services.workflows.apply(org, sensorDoc('prom', '@acme/prom', 'mon'), SYSTEM))
        .workflow.id
      promToo = (await r.o.services.workflows.apply(org, sensorDoc('prom-too', '@acme/prom', 'mon'), SYSTEM))
        .workflow.id
      logs = (await r.o.services.workflows.apply(org, sensorDoc('logs', '@acme/logs', 'mon'), SYSTEM))
        .workflow.id
    })
    afterAll(() => setup.cleanup())

    it('refuses an event from an agent of another pool, naming the field, and stores nothing', async () => {
      const got = await report(stranger.credential, [
        { source: '@acme/prom', type: 'alert', sensorId: prom, dedupeKey: 'foreign-1' },
      ])
      expect(got.status).toBe(403)
      expect(got.body.error).toMatchObject({
        code: 'STAVILY_ERR_EVENT_NOT_BOUND',
        field: 'events[0].sensorId',
      })
      expect(await stored(prom, 'foreign-1')).toBe(0)
    })

    it("refuses an event whose source is not the sensor's plugin, and the whole batch with it", async () => {
      const got = await report(mon.credential, [
        { source: '@acme/prom', type: 'alert', sensorId: prom, dedupeKey: 'batch-ok' },
        { source: '@acme/prom', type: 'alert', sensorId: logs, dedupeKey: 'batch-bad' },
      ])
      expect(got.status).toBe(403)
      expect(got.body.error).toMatchObject({ code: 'STAVILY_ERR_EVENT_NOT_BOUND', field: 'events[1].source' })
      expect(got.body.error.message).toContain('@acme/logs')
      expect(await stored(prom, 'batch-ok')).toBe(0)
      expect(await stored(logs, 'batch-bad')).toBe(0)
    })

    it('refuses a sensor id that is no sensor of the organization', async () => {
      const other = await r.o.services.tenancy.createOrganization('other-org-events')
      const foreignSensor = await enroll(r, 'sensor', 'mon', { token: other.adminToken })
      const got = await report(foreignSensor.credential, [
        { source: '@acme/prom', type: 'alert', sensorId: prom, dedupeKey: 'cross-org' },
      ])
      expect(got.status).toBe(403)
      expect(got.body.error.field).toBe('events[0].sensorId')
      expect(await stored(prom, 'cross-org')).toBe(0)
    })

    it("keeps dedupe keys per sensor: another sensor's (or an unrouted) event with the key first suppresses nothing", async () => {
      const first = await report(mon.credential, [
        { source: '@acme/prom', type: 'alert', sensorId: promToo, dedupeKey: 'shared-key' },
        { source: '@acme/prom', type: 'alert', dedupeKey: 'shared-key' },
      ])
      expect(first.status).toBe(202)
      const mine = await report(mon.credential, [
        { source: '@acme/prom', type: 'alert', sensorId: prom, dedupeKey: 'shared-key' },
      ])
      expect(mine.status).toBe(202)
      expect(mine.body.duplicates).toBe(0)
      expect(first.body.ids).not.toContain(mine.body.ids[0])
      expect(await stored(prom, 'shared-key')).toBe(1)
      // The same sensor repeating its key is still a duplicate with the stored id.
      const again = await report(mon.credential, [
        { source: '@acme/prom', type: 'alert', sensorId: prom, dedupeKey: 'shared-key' },
        { source: '@acme/prom', type: 'alert', dedupeKey: 'shared-key' },
      ])
      expect(again.body).toEqual({ ids: [mine.body.ids[0], first.body.ids[1]], duplicates: 2 })
    })
  })
}
