// Hot swap: N+1 is loaded beside N, health-checked, then takes new calls while N drains.
// Under a stream of calls none is dropped and none runs twice; a failed load leaves N serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

let sandbox: Sandbox

beforeAll(async () => {
  sandbox = await createSandbox()
})
afterAll(async () => {
  await sandbox?.close()
})

describe('swap', () => {
  it('swaps under a stream of calls: none dropped, none double-run, new calls go to N+1', async () => {
    await sandbox.load({ manifest: manifest('counter'), bundle: await buildFixture('counter-v1') })
    const v2 = await buildFixture('counter-v2')
    const calls: Promise<{ version: number; n: number }>[] = []
    let swapped = false
    const stream = (async () => {
      // Keeps about 10 calls in flight (under the default concurrency limit) until well after the swap.
      for (let i = 0; i < 400 && (!swapped || i < 300); i++) {
        calls.push(
          sandbox
            .invoke('counter', { ...ids(), input: {} })
            .then((r) => r.output as { version: number; n: number }),
        )
        if (i % 10 === 9) await Promise.all(calls.slice(-10))
      }
    })()
    await new Promise((r) => setTimeout(r, 20))
    const result = await sandbox.swap({ manifest: manifest('counter', { version: '2.0.0' }), bundle: v2 })
    swapped = true
    expect(result).toMatchObject({ previous: '1.0.0', current: '2.0.0' })
    await stream
    const outputs = await Promise.all(calls)
    await result.drained
    expect(outputs.every((o) => o.n === 1)).toBe(true)
    const versions = outputs.map((o) => o.version)
    expect(versions).toContain(1)
    expect(versions).toContain(2)
    // Once a call went to N+1, every later one did.
    const firstV2 = versions.indexOf(2)
    expect(versions.slice(firstV2).every((v) => v === 2)).toBe(true)
    const after = await sandbox.invoke('counter', { ...ids(), input: {} })
    expect(after.output).toMatchObject({ version: 2, n: 1 })
    const stats = await sandbox.stats()
    expect(stats.plugins.filter((p) => p.name === 'counter')).toMatchObject([{ version: '2.0.0' }])
    expect(sandbox.list().filter((p) => p.name === 'counter')).toMatchObject([
      { version: '2.0.0', kind: 'action' },
    ])
  })

  it('a failed swap leaves the old version serving', async () => {
    await sandbox.load({ manifest: manifest('stable'), bundle: await buildFixture('trivial') })
    await expect(
      sandbox.swap({
        manifest: manifest('stable', { version: '1.1.0' }),
        bundle: 'throw new Error("broken build")',
      }),
    ).rejects.toMatchObject({ code: C.LOAD_FAILED, message: expect.stringContaining('broken build') })
    const r = await sandbox.invoke('stable', { ...ids(), input: { n: 41 } })
    expect(r.output).toEqual({ n: 42 })
    expect((await sandbox.stats()).plugins.find((p) => p.name === 'stable')).toMatchObject({
      version: '1.0.0',
    })
  })

  it('unload waits for calls in flight, then the plugin is gone', async () => {
    await sandbox.load({ manifest: manifest('gone'), bundle: await buildFixture('echo') })
    const call = sandbox.invoke('gone', { ...ids(), input: { text: 'last' } })
    await sandbox.unload('gone')
    expect((await call).output).toMatchObject({ text: 'last' })
    await expect(sandbox.invoke('gone', { ...ids(), input: { text: 'x' } })).rejects.toMatchObject({
      code: C.NOT_LOADED,
    })
  })
})

describe('many plugins at once', () => {
  it('keep their module state and ctx.state separate', async () => {
    const bundle = await buildFixture('echo')
    const names = Array.from({ length: 20 }, (_, i) => `many-${i}`)
    await Promise.all(names.map((name) => sandbox.load({ manifest: manifest(name), bundle })))
    for (let round = 1; round <= 3; round++) {
      const results = await Promise.all(
        // Plugin i is called i % 3 + 1 times per round (one after another: the fixture's
        // state update is a read-then-write), all plugins at once.
        names.map(async (name, i) => {
          const rs = []
          for (let k = 0; k <= i % 3; k++)
            rs.push(await sandbox.invoke(name, { ...ids(), input: { text: name } }))
          return rs
        }),
      )
      results.forEach((rs, i) => {
        const last = rs.at(-1)!.output as { text: string; calls: number; stored: number }
        expect(last.text).toBe(names[i])
        expect(last.calls).toBe(round * ((i % 3) + 1))
        expect(last.stored).toBe(round * ((i % 3) + 1))
      })
    }
    await Promise.all(names.map((name) => sandbox.unload(name)))
  })
})
