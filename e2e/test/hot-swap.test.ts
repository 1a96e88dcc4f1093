// A new plugin version, published from a git daemon repository and enabled while a sensor
// runs every second: the sensor agent hot-swaps it, and no sensor call fails or is skipped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DemoService, startDemoService } from '../src/demo.ts'
import { waitFor } from '../src/net.ts'
import { type Platform, startPlatform } from '../src/platform.ts'

let platform: Platform
let service: DemoService

beforeAll(async () => {
  // A short heartbeat: the agent learns of the changed plugin set at its next one.
  platform = await startPlatform('swap', { orchestratorEnv: { STAVILY_HEARTBEAT_MS: '1000' } })
  service = await startDemoService()
}, 180_000)

afterAll(async () => {
  await service?.child.stop()
  await platform?.close()
})

describe('hot swap', () => {
  it('swaps http-check 0.1.0 → 0.1.1 under a sensor running every second without a failed check', async () => {
    const first = await platform.publish('http-check')
    await platform.enable(first.name, first.version)
    await platform.publish('log')
    await platform.enable('@stavily/plugin-log', '^0.1.0')
    await platform.apply(`
name: swap-watch
trigger:
  sensor:
    plugin: "@stavily/plugin-http-check"
    version: ">=0.1.0"
    interval: 1s
    config: { url: "${service.web}/health", name: swap-target }
    filter: event.type == 'http-check.down'
outputs:
  - id: log
    plugin: "@stavily/plugin-log"
    version: ^0.1.0
    input: { message: "down" }
`)
    const sensor = await platform.agent({
      name: 'swap-sensor',
      kind: 'sensor',
      grants: { hosts: ['127.0.0.1'] },
    })
    await sensor.child.waitForLine((l) => l.includes('plugin loaded') && l.includes(first.version), 90_000)
    await waitFor('the sensor to check the service', async () =>
      (await service.state()).checks >= 3 ? true : undefined,
    )

    // A new release: the version bumped in the repository, committed, tagged, published.
    platform.repo.setVersion('http-check', '0.1.1')
    platform.repo.commit('http-check 0.1.1')
    platform.repo.tag('http-check@0.1.1')
    const second = await platform.publish('http-check', 'http-check@0.1.1')
    expect(second.version).toBe('0.1.1')
    expect(second.digest).not.toBe(first.digest)
    await platform.enable(second.name, '0.1.1')

    await sensor.child.waitForLine((l) => l.includes('plugin hot-swapped') && l.includes('0.1.1'), 90_000)
    const atSwap = (await service.state()).checks
    await waitFor('checks by the new version', async () =>
      (await service.state()).checks >= atSwap + 3 ? true : undefined,
    )
    const failed = sensor.child.lines.filter((l) => l.includes('sensor check failed'))
    expect(failed, platform.logs()).toEqual([])
    expect(sensor.child.running).toBe(true)
  }, 240_000)
})
