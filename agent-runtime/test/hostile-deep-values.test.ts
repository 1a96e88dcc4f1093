// The hostile corpus, deep values: every value a plugin hands the host (its output, its
// error's data, log fields, an event, a state value, capability arguments) is refused when
// it nests deeper than the wire policy allows, as the plugin's own error, before anything
// reaches the host's IPC serializer, which would overflow its stack and take the sandbox
// host down with every plugin in it.
import { WIRE_LIMITS } from '@stavily/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

let sandbox: Sandbox
let hostPid: number | undefined

beforeAll(async () => {
  sandbox = await createSandbox()
  hostPid = sandbox.hostPid
  await sandbox.load({
    manifest: manifest('deep', { permissions: { net: ['example.invalid'], exec: ['echo'] } }),
    bundle: await buildFixture('deep'),
    grants: { net: ['example.invalid'], exec: ['echo'] },
  })
  await sandbox.load({
    manifest: manifest('deep-sensor', { kind: 'sensor' }),
    bundle: await buildFixture('deep-sensor'),
  })
  await sandbox.load({ manifest: manifest('healthy'), bundle: await buildFixture('trivial') })
})
afterAll(async () => {
  await sandbox?.close()
})

/** The host was not restarted and the neighbour still answers. */
async function expectHostSurvived(): Promise<void> {
  const r = await sandbox.invoke('healthy', { ...ids(), input: { n: 1 } })
  expect(r.output).toEqual({ n: 2 })
  expect(sandbox.hostPid).toBe(hostPid)
  expect((await sandbox.stats()).hostRestarts).toBe(0)
}

describe('a value nested thousands of levels deep fails its call, not the host', () => {
  // 3,000 levels: JSON.stringify in the isolate still manages it, the host's IPC
  // serializer does not. 5,000: the isolate's own stack gives out first.
  for (const mode of ['output', 'log', 'state', 'fetch', 'exec']) {
    it(`${mode}: refused with VALUE_TOO_DEEP`, async () => {
      await expect(
        sandbox.invoke('deep', { ...ids(), input: { mode, levels: 3_000 } }),
      ).rejects.toMatchObject({
        code: C.VALUE_TOO_DEEP,
        retryable: false,
        message: expect.stringContaining(`deeper than ${WIRE_LIMITS.maxDepth} levels`),
      })
      await expectHostSurvived()
      const err = await sandbox.invoke('deep', { ...ids(), input: { mode, levels: 5_000 } }).catch((e) => e)
      expect([C.VALUE_TOO_DEEP, C.STACK_OVERFLOW]).toContain(err.code)
      await expectHostSurvived()
    })
  }

  it("an error's deep data is dropped; its code and message still arrive", async () => {
    const err = await sandbox
      .invoke('deep', { ...ids(), input: { mode: 'error-data', levels: 3_000 } })
      .catch((e) => e)
    expect(err).toMatchObject({
      code: 'DEEP_FAILURE',
      message: expect.stringContaining('its data was dropped'),
      data: undefined,
    })
    await expectHostSurvived()
  })

  it("an error's data larger than the output limit is dropped too", async () => {
    const err = await sandbox
      .invoke('deep', { ...ids(), input: { mode: 'error-big-data', levels: 2 * 1024 * 1024 } })
      .catch((e) => e)
    expect(err).toMatchObject({
      code: 'BIG_FAILURE',
      message: expect.stringContaining('more than 1048576 bytes'),
      data: undefined,
    })
    await expectHostSurvived()
  })

  it('an event, collected (check) or streamed (watch): refused with VALUE_TOO_DEEP', async () => {
    await expect(sandbox.invoke('deep-sensor', ids())).rejects.toMatchObject({ code: C.VALUE_TOO_DEEP })
    const streamed: unknown[] = []
    await expect(
      sandbox.invoke('deep-sensor', { ...ids(), operation: 'watch', onEvent: (e) => streamed.push(e) }),
    ).rejects.toMatchObject({ code: C.VALUE_TOO_DEEP })
    expect(streamed).toEqual([])
    await expectHostSurvived()
  })

  it('the limit is the wire policy: exactly maxDepth levels pass, one more is refused', async () => {
    const max = WIRE_LIMITS.maxDepth
    const ok = await sandbox.invoke('deep', { ...ids(), input: { mode: 'output', levels: max } })
    let depth = 0
    for (let v = ok.output; Array.isArray(v); v = v[0]) depth++
    expect(depth).toBe(max)
    await expect(
      sandbox.invoke('deep', { ...ids(), input: { mode: 'output', levels: max + 1 } }),
    ).rejects.toMatchObject({ code: C.VALUE_TOO_DEEP })
    const logged = await sandbox.invoke('deep', { ...ids(), input: { mode: 'log', levels: max - 1 } })
    expect(logged.logs).toHaveLength(1)
    await expect(
      sandbox.invoke('deep', { ...ids(), input: { mode: 'log', levels: max } }),
    ).rejects.toMatchObject({ code: C.VALUE_TOO_DEEP })
  })
})
