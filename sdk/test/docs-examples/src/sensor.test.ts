import { testSensor } from '@stavily/sdk/testing'
import { expect, it } from 'vitest'
import sensor from './sensor.ts'

const manifest = {
  name: 'uptime',
  version: '1.0.0',
  stavily: {
    kind: 'sensor',
    entry: 'src/sensor.ts',
    sdk: '^1.0.0',
    permissions: { net: ['status.example.com'] },
  },
}

it('emits site.down when the site answers 503', async () => {
  const { events } = await testSensor(sensor, {
    manifest,
    config: { url: 'https://status.example.com/health' },
    fetch: { 'status.example.com': { status: 503 } },
  })
  expect(events).toEqual([
    {
      type: 'site.down',
      data: { status: 503, url: 'https://status.example.com/health' },
      dedupeKey: 'down:https://status.example.com/health:503',
    },
  ])
})

it('runs the watch loop until it is stopped (ctx.sleep does not really wait)', async () => {
  const statuses = [500, 200, 500]
  const { events, calls } = await testSensor(sensor, {
    manifest,
    operation: 'watch',
    maxSleeps: 3, // isStopping() turns true after three sleeps
    config: { url: 'https://status.example.com/' },
    fetch: () => ({ status: statuses.shift() ?? 200 }),
  })
  expect(events.map((e) => e.data.status)).toEqual([500, 200, 500])
  expect(calls.sleeps).toEqual([30_000, 30_000, 30_000])
})
