// Loading refuses, with a reason, what cannot run: invalid manifests, incompatible SDKs,
// bundles that do not define a plugin of the declared kind, bad grants and limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

let sandbox: Sandbox
let trivial: string

beforeAll(async () => {
  sandbox = await createSandbox()
  trivial = await buildFixture('trivial')
})
afterAll(async () => {
  await sandbox?.close()
})

const handWritten = (definition: string) => `var __stavilyPlugin = { default: ${definition} };`

describe('load refuses, saying why', () => {
  it('an invalid manifest, naming the field', async () => {
    const bad = manifest('bad')
    ;(bad.stavily as Record<string, unknown>).kind = 'daemon'
    await expect(sandbox.load({ manifest: bad, bundle: trivial })).rejects.toMatchObject({
      code: C.MANIFEST_INVALID,
      message: expect.stringContaining('stavily.kind'),
    })
    await expect(sandbox.load({ manifest: { name: 'x' }, bundle: trivial })).rejects.toMatchObject({
      code: C.MANIFEST_INVALID,
    })
  })

  it('a manifest whose SDK range this agent does not implement', async () => {
    await expect(
      sandbox.load({ manifest: manifest('future', { sdk: '^2.0.0' }), bundle: trivial }),
    ).rejects.toMatchObject({
      code: C.SDK_INCOMPATIBLE,
      message: expect.stringContaining('^2.0.0'),
    })
  })

  it('a bundle built with an SDK API this agent does not implement', async () => {
    const bundle = handWritten(`{ kind: 'action', sdkApiVersion: '9.0.0', schemas: {}, run() { return {} } }`)
    await expect(sandbox.load({ manifest: manifest('built-later'), bundle })).rejects.toMatchObject({
      code: C.SDK_INCOMPATIBLE,
      message: expect.stringContaining('9.0.0'),
    })
  })

  it('a bundle of another kind than its manifest says', async () => {
    await expect(
      sandbox.load({ manifest: manifest('liar', { kind: 'sensor' }), bundle: trivial }),
    ).rejects.toMatchObject({
      code: C.LOAD_FAILED,
      message: expect.stringContaining('manifest says "sensor"'),
    })
  })

  it('a bundle that throws, loops or defines nothing at load', async () => {
    await expect(
      sandbox.load({ manifest: manifest('throws'), bundle: 'throw new TypeError("nope")' }),
    ).rejects.toMatchObject({
      code: C.LOAD_FAILED,
      message: expect.stringContaining('nope'),
    })
    await expect(
      sandbox.load({ manifest: manifest('loops'), bundle: 'for (;;) {}', limits: { cpuMs: 100 } }),
    ).rejects.toMatchObject({ code: C.CPU_LIMIT })
    await expect(sandbox.load({ manifest: manifest('empty'), bundle: 'var x = 1' })).rejects.toMatchObject({
      code: C.LOAD_FAILED,
      message: expect.stringContaining('__stavilyPlugin'),
    })
    await expect(
      sandbox.load({
        manifest: manifest('no-run'),
        bundle: handWritten(`{ kind: 'action', sdkApiVersion: '1.0.0', schemas: {} }`),
      }),
    ).rejects.toMatchObject({ code: C.LOAD_FAILED, message: expect.stringContaining('run') })
  })

  it('a schema pattern the linear-time engine cannot run (a backreference)', async () => {
    await expect(
      sandbox.load({ manifest: manifest('risky'), bundle: await buildFixture('risky-schema') }),
    ).rejects.toMatchObject({
      code: C.LOAD_FAILED,
      message: expect.stringMatching(
        /schemas\.output\.properties\.id\.pattern .* cannot run on a linear-time engine/,
      ),
    })
  })

  it('a plugin already loaded (swap replaces it), bad grants and bad limits', async () => {
    await sandbox.load({ manifest: manifest('once'), bundle: trivial })
    await expect(sandbox.load({ manifest: manifest('once'), bundle: trivial })).rejects.toMatchObject({
      code: C.ALREADY_LOADED,
    })
    await expect(
      sandbox.load({
        manifest: manifest('grants'),
        bundle: trivial,
        grants: { net: ['https://x.example.com/'] },
      }),
    ).rejects.toMatchObject({ code: C.INVALID_ARGUMENT, message: expect.stringContaining('grants') })
    await expect(
      sandbox.load({ manifest: manifest('limits'), bundle: trivial, limits: { memoryMb: 2 } }),
    ).rejects.toMatchObject({ code: C.INVALID_ARGUMENT, message: expect.stringContaining('limits.memoryMb') })
    await expect(
      sandbox.load({ manifest: manifest('limits'), bundle: trivial, limits: { cpuSeconds: 2 } as never }),
    ).rejects.toMatchObject({
      code: C.INVALID_ARGUMENT,
      message: expect.stringContaining('limits.cpuSeconds'),
    })
  })

  it('invoke checks its arguments and the operation', async () => {
    await expect(
      sandbox.invoke('once', { invocationId: '', idempotencyKey: 'k', input: { n: 1 } }),
    ).rejects.toMatchObject({
      code: C.INVALID_ARGUMENT,
      message: expect.stringContaining('invocationId'),
    })
    await expect(
      sandbox.invoke('once', { ...ids(), operation: 'check', input: { n: 1 } }),
    ).rejects.toMatchObject({
      code: C.UNKNOWN_OPERATION,
    })
    await expect(sandbox.invoke('missing', { ...ids() })).rejects.toMatchObject({ code: C.NOT_LOADED })
  })
})
