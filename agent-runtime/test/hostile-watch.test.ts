// The hostile corpus, watch sensors: a watch runs for hours, so its CPU (limits.cpuMs) and
// its events (limits.events) are budgeted per window (limits.watchWindowMs) instead of per
// call or per slice. A watch that keeps the host busy slice after slice, or streams events
// without end, fails; one that stays within its budget in every window runs on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type PluginEvent, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

let sandbox: Sandbox
let hostPid: number | undefined

beforeAll(async () => {
  sandbox = await createSandbox()
  hostPid = sandbox.hostPid
  await sandbox.load({
    manifest: manifest('busy-watch', { kind: 'sensor' }),
    bundle: await buildFixture('busy-watch'),
    limits: { cpuMs: 100, events: 5, watchWindowMs: 3_000 },
  })
  await sandbox.load({
    manifest: manifest('steady-watch', { kind: 'sensor' }),
    bundle: await buildFixture('busy-watch'),
    limits: { events: 3, watchWindowMs: 250 },
  })
  await sandbox.load({ manifest: manifest('healthy'), bundle: await buildFixture('trivial') })
})
afterAll(async () => {
  await sandbox?.close()
})

async function expectHealthy(): Promise<void> {
  expect((await sandbox.invoke('healthy', { ...ids(), input: { n: 1 } })).output).toEqual({ n: 2 })
  expect(sandbox.hostPid).toBe(hostPid)
}

/** A watch that would run until its deadline unless a limit ends it first. */
function watch(name: string, config: Record<string, unknown>, seen: PluginEvent[] = [], forMs = 20_000) {
  return sandbox.invoke(name, {
    ...ids(),
    operation: 'watch',
    config,
    deadline: Date.now() + forMs,
    onEvent: (e) => seen.push(e),
  })
}

describe('watch sensors are budgeted over a window', () => {
  it('a watch that spins 10 ms per slice fails with CPU_LIMIT once it has used cpuMs in the window', async () => {
    const started = Date.now()
    await expect(watch('busy-watch', { mode: 'spin' }, [], 8_000)).rejects.toMatchObject({
      code: C.CPU_LIMIT,
      message: expect.stringContaining('limits.watchWindowMs'),
    })
    // About ten slices, well before the deadline (which would end it with TIMEOUT).
    expect(Date.now() - started).toBeLessThan(5_000)
    await expectHealthy()
  })

  it('streamed events count: a flooding watch fails with EVENT_LIMIT after `events` of them', async () => {
    const seen: PluginEvent[] = []
    await expect(watch('busy-watch', { mode: 'flood' }, seen)).rejects.toMatchObject({
      code: C.EVENT_LIMIT,
    })
    expect(seen).toHaveLength(5)
    await expectHealthy()
  })

  it('so do events a check streams to its caller', async () => {
    const seen: PluginEvent[] = []
    await expect(
      sandbox.invoke('busy-watch', {
        ...ids(),
        config: { mode: 'check', count: 9 },
        onEvent: (e) => seen.push(e),
      }),
    ).rejects.toMatchObject({ code: C.EVENT_LIMIT })
    expect(seen).toHaveLength(5)
  })

  it('a watch within its budget in every window runs on past a single window', async () => {
    // 3 events per 250 ms window, one every 100 ms: 8 events over about 800 ms.
    const seen: PluginEvent[] = []
    await watch('steady-watch', { mode: 'steady', count: 8 }, seen)
    expect(seen.map((e) => (e.data as { n: number }).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
  })
})
