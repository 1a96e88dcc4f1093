// The hostile corpus, capability fan-out: a call that starts 300 commands at once gets
// limits.operationsPerCall of them; the rest are refused at once with TOO_MANY_OPERATIONS
// (no process forked for them). A plugin's calls together hold at most
// limits.operationsPerPlugin. Once its operations settle, a plugin can start new ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, DEFAULT_LIMITS, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

let sandbox: Sandbox
const permissions = { exec: ['echo', 'sleep'] }

beforeAll(async () => {
  sandbox = await createSandbox()
  const bundle = await buildFixture('fan-out')
  await sandbox.load({ manifest: manifest('fan-out', { permissions }), bundle, grants: permissions })
  await sandbox.load({
    manifest: manifest('fan-out-small', { permissions }),
    bundle,
    grants: permissions,
    limits: { operationsPerCall: 6, operationsPerPlugin: 8 },
  })
  await sandbox.load({ manifest: manifest('healthy'), bundle: await buildFixture('trivial') })
})
afterAll(async () => {
  await sandbox?.close()
})

describe('operations in flight are capped', () => {
  it('300 echos at once: operationsPerCall run, the rest are refused with TOO_MANY_OPERATIONS', async () => {
    const r = await sandbox.invoke('fan-out', {
      ...ids(),
      input: { count: 300, command: 'echo', args: ['hi'] },
    })
    const perCall = DEFAULT_LIMITS.operationsPerCall
    expect(r.output).toMatchObject({ ran: perCall, refused: { [C.TOO_MANY_OPERATIONS]: 300 - perCall } })
    // Settled operations free their places: the next call gets its full share again.
    const again = await sandbox.invoke('fan-out', {
      ...ids(),
      input: { count: 3, command: 'echo', args: ['hi'] },
    })
    expect(again.output).toEqual({ ran: 3, refused: {} })
    const healthy = await sandbox.invoke('healthy', { ...ids(), input: { n: 1 } })
    expect(healthy.output).toEqual({ n: 2 })
  })

  it("the plugin's calls together hold at most operationsPerPlugin", async () => {
    // Two calls of 6 one-second sleeps at once against a plugin limit of 8: 8 run, 4 refused.
    const input = { count: 6, command: 'sleep', args: ['1'] }
    const [a, b] = await Promise.all([
      sandbox.invoke('fan-out-small', { ...ids(), input }),
      sandbox.invoke('fan-out-small', { ...ids(), input }),
    ])
    const outputs = [a.output, b.output] as { ran: number; refused: Record<string, number> }[]
    expect(outputs.map((o) => o.ran).reduce((x, y) => x + y)).toBe(8)
    expect(outputs.map((o) => o.refused[C.TOO_MANY_OPERATIONS] ?? 0).reduce((x, y) => x + y)).toBe(4)
  })

  it('names the limit and its setting', async () => {
    const r = await sandbox.invoke('fan-out-small', {
      ...ids(),
      input: { count: 7, command: 'echo', args: ['x'] },
    })
    expect(r.output).toEqual({
      ran: 6,
      refused: { [C.TOO_MANY_OPERATIONS]: 1 },
      message:
        'exec: this call already has 6 exec/fetch/fs/state operations in flight; the limit is 6 (limits.operationsPerCall); wait for some to finish',
    })
  })
})
