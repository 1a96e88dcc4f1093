// The hostile corpus, part 2: escapes. What a plugin returns crosses as JSON made inside
// the isolate, so getters, Proxies, thenables, toJSON and Symbol.toPrimitive run there (under
// its limits) and never on the host; the plugin's global has no host objects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

let sandbox: Sandbox

beforeAll(async () => {
  sandbox = await createSandbox()
  await sandbox.load({
    manifest: manifest('hostile'),
    bundle: await buildFixture('hostile'),
    limits: { cpuMs: 300 },
  })
})
afterAll(async () => {
  await sandbox?.close()
})

describe('what a plugin returns is plain data, made in the isolate', () => {
  it('getters, Proxies, toJSON and Symbol.toPrimitive resolve to plain values; functions vanish', async () => {
    const r = await sandbox.invoke('hostile', { ...ids(), input: { mode: 'tricks' } })
    expect(r.output).toEqual({
      g: 'getter ran in the isolate',
      p: { a: 'trap' },
      t: 'toJSON ran in the isolate',
      prim: { v: 1 },
    })
    // Plain objects of this realm: no accessor, no prototype from the plugin.
    const out = r.output as Record<string, unknown>
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(out, 'g')).toMatchObject({ value: 'getter ran in the isolate' })
  })

  it('a returned thenable is resolved inside the isolate', async () => {
    const r = await sandbox.invoke('hostile', { ...ids(), input: { mode: 'thenable' } })
    expect(r.output).toEqual({ via: 'thenable' })
  })
})

describe('the plugin global has no way out', () => {
  it('has no process, require, timers, Buffer or host callbacks, also through constructor.constructor and prepareStackTrace', async () => {
    const r = await sandbox.invoke('hostile', { ...ids(), input: { mode: 'escape' } })
    expect(r.output).toMatchObject({
      process: 'undefined',
      require: 'undefined',
      module: 'undefined',
      setTimeout: 'undefined',
      Buffer: 'undefined',
      fetch: 'undefined',
      hostCall: 'undefined',
      hostDone: 'undefined',
      runtime: 'undefined',
      ctorProcess: 'undefined',
      ctorRequire: 'undefined',
      // Function's constructor only reaches the isolate's own global.
      sameGlobal: true,
      ctxFrozen: true,
    })
    expect((r.output as { ctxKeys: string[] }).ctxKeys).toEqual(
      [
        'config',
        'deadline',
        'exec',
        'fetch',
        'fs',
        'idempotencyKey',
        'invocationId',
        'log',
        'secrets',
        'smtp',
        'sql',
        'state',
      ].sort(),
    )
    // Stack frames seen through prepareStackTrace are the isolate's own.
    expect((r.output as { frames: number }).frames).toBeGreaterThan(0)
  })

  it("a sensor's ctx has exactly its own keys: exec (granted commands) but no smtp and no file writes", async () => {
    await sandbox.load({
      manifest: manifest('sensor-keys', { kind: 'sensor' }),
      bundle: await buildFixture('sensor'),
    })
    const r = await sandbox.invoke('sensor-keys', { ...ids(), config: { emit: [], tryExec: true } })
    expect((r.logs[0]?.fields as { keys: string[] } | undefined)?.keys).toEqual(
      [
        'config',
        'deadline',
        'emit',
        'exec',
        'fetch',
        'fs',
        'idempotencyKey',
        'invocationId',
        'isStopping',
        'log',
        'secrets',
        'sleep',
        'sql',
        'state',
      ].sort(),
    )
    expect(r.logs[0]?.fields).toMatchObject({ writeText: 'undefined' })
  })

  it('a ctx kept from an earlier call cannot be used in a later one (its secrets stay with its call)', async () => {
    const manifestWithSecret = manifest('keeper', { permissions: { secrets: ['API_TOKEN'] } })
    await sandbox.load({
      manifest: manifestWithSecret,
      bundle: await buildFixture('hostile'),
      grants: { secrets: ['API_TOKEN'] },
    })
    await sandbox.invoke('keeper', {
      ...ids(),
      input: { mode: 'keep-ctx' },
      secrets: { API_TOKEN: 'first-call-secret' },
    })
    const r = await sandbox.invoke('keeper', { ...ids(), input: { mode: 'use-old-ctx' } })
    expect(r.output).toMatchObject({
      refused: C.CAPABILITY_FAILED,
      message: expect.stringContaining('already finished'),
    })
  })

  it('a plugin error that is not a PluginError becomes STAVILY_ERR_PLUGIN_FAILED with its message', async () => {
    await expect(sandbox.invoke('hostile', { ...ids(), input: { mode: 'nope' } })).rejects.toMatchObject({
      code: C.PLUGIN_FAILED,
      message: expect.stringContaining('unknown mode nope'),
      retryable: false,
    })
  })
})
