// A new plugin version, published from a git daemon repository and enabled while a sensor
// runs every second: the sensor agent hot-swaps it, and no sensor call fails or is skipped.
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../src/net.ts'
import { type Platform, startPlatform } from '../src/platform.ts'

let platform: Platform
let target: Server
let targetUrl: string
/** The release header of each check that reached the target, in order ('' when absent). */
const checks: string[] = []

beforeAll(async () => {
  // A short heartbeat: the agent learns of the changed plugin set at its next one.
  platform = await startPlatform('swap', { orchestratorEnv: { STAVILY_HEARTBEAT_MS: '1000' } })
  target = createServer((req, res) => {
    checks.push(String(req.headers['x-e2e-release'] ?? ''))
    res.writeHead(200).end('ok')
  })
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
  targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}`
}, 180_000)

afterAll(async () => {
  target?.closeAllConnections()
  target?.close()
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
    config: { url: "${targetUrl}/health", name: swap-target }
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
    await waitFor('the sensor to check the target', () => (checks.length >= 3 ? true : undefined))

    // A new release that behaves visibly differently (it sends a header), committed,
    // tagged and published from the git daemon's repository.
    const probe = 'plugins/http-check/src/probe.ts'
    const source = platform.repo.read(probe)
    const changed = source.replace(
      'const headers = { ...settings.headers }',
      "const headers: Record<string, string> = { 'x-e2e-release': '0.1.1', ...settings.headers }",
    )
    expect(changed).not.toBe(source)
    platform.repo.write(probe, changed).setVersion('http-check', '0.1.1')
    platform.repo.commit('http-check 0.1.1: sends x-e2e-release')
    platform.repo.tag('http-check@0.1.1')
    const second = await platform.publish('http-check', 'http-check@0.1.1')
    expect(second.version).toBe('0.1.1')
    expect(second.digest).not.toBe(first.digest)
    await platform.enable(second.name, '0.1.1')

    await sensor.child.waitForLine((l) => l.includes('plugin hot-swapped') && l.includes('0.1.1'), 90_000)
    await waitFor('three checks by the new version', () =>
      checks.filter((c) => c === '0.1.1').length >= 3 ? true : undefined,
    )
    // Old version until the swap, new after it: never a mix once the new one took over.
    const firstNew = checks.indexOf('0.1.1')
    expect(checks.slice(0, firstNew).every((c) => c === '')).toBe(true)
    expect(checks.slice(firstNew).every((c) => c === '0.1.1')).toBe(true)
    const failed = sensor.child.lines.filter((l) => l.includes('sensor check failed'))
    expect(failed, platform.logs()).toEqual([])
    expect(sensor.child.running).toBe(true)
  }, 240_000)
})
