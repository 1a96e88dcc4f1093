// Plugins published before the slim schema builders carry all of TypeBox in their bundle;
// newer builds carry only the builders they call. Both load and behave the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSandbox, type Sandbox, SandboxErrorCodes } from '../../src/index.ts'
import { buildFixture, buildFixtureWithTypebox, ids, manifest } from '../helpers/build-fixture.ts'

let sandbox: Sandbox

beforeAll(async () => {
  sandbox = await createSandbox()
})
afterAll(async () => {
  await sandbox?.close()
})

describe('bundle formats', () => {
  it('loads a bundle with TypeBox inside and one without, and both validate and answer alike', async () => {
    const slim = await buildFixture('echo')
    const full = await buildFixtureWithTypebox('echo')
    expect(slim).not.toContain('typebox/build')
    expect(full).toContain('typebox/build')
    expect(slim.length * 5).toBeLessThan(full.length)
    await sandbox.load({ manifest: manifest('echo-slim'), bundle: slim })
    await sandbox.load({ manifest: manifest('echo-full'), bundle: full })
    const outcomes = []
    for (const name of ['echo-slim', 'echo-full']) {
      const ok = await sandbox.invoke(name, { ...ids(), input: { text: 'hi' }, config: { prefix: '> ' } })
      const bad = await sandbox.invoke(name, { ...ids(), input: { text: 5 } }).catch((e: Error) => e)
      outcomes.push({
        output: ok.output,
        code: (bad as { code?: string }).code,
        message: (bad as Error).message,
      })
    }
    expect(outcomes[0]).toEqual(outcomes[1])
    expect(outcomes[0]).toMatchObject({
      output: { text: '> hi', calls: 1, stored: 1 },
      code: SandboxErrorCodes.INVALID_INPUT,
      message: expect.stringContaining('input.text'),
    })
  })

  it('refuses input JSON cannot carry on the agent side, naming the option', async () => {
    await sandbox.load({ manifest: manifest('echo-json'), bundle: await buildFixture('echo') })
    await expect(sandbox.invoke('echo-json', { ...ids(), input: { text: 1n } })).rejects.toMatchObject({
      code: SandboxErrorCodes.INVALID_ARGUMENT,
      message: expect.stringContaining('invoke input:'),
    })
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    await expect(
      sandbox.invoke('echo-json', { ...ids(), input: { text: 'x' }, config: cyclic }),
    ).rejects.toMatchObject({
      code: SandboxErrorCodes.INVALID_ARGUMENT,
      message: expect.stringContaining('invoke config:'),
    })
    // The sandbox goes on serving.
    expect((await sandbox.invoke('echo-json', { ...ids(), input: { text: 'y' } })).output).toMatchObject({
      text: 'y',
    })
  })
})
