// Loading and invoking through the real sandbox host child process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSandbox, type Sandbox, SandboxErrorCodes } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

let sandbox: Sandbox

beforeAll(async () => {
  sandbox = await createSandbox()
})
afterAll(async () => {
  await sandbox?.close()
})

describe('load and invoke', () => {
  it('runs an action and returns its validated output, logs and stats', async () => {
    const loaded = await sandbox.load({ manifest: manifest('echo'), bundle: await buildFixture('echo') })
    expect(loaded).toMatchObject({ name: 'echo', version: '1.0.0', kind: 'action', operations: ['run'] })
    const r = await sandbox.invoke('echo', { ...ids(), input: { text: 'hi' }, config: { prefix: '> ' } })
    expect(r.output).toEqual({ text: '> hi', calls: 1, stored: 1 })
    expect(r.logs).toMatchObject([{ level: 'info', message: 'echo', fields: { text: 'hi' } }])
    expect(r.stats.wallMs).toBeGreaterThan(0)
    const again = await sandbox.invoke('echo', { ...ids(), input: { text: 'x' } })
    expect(again.output).toEqual({ text: 'x', calls: 2, stored: 2 })
  })

  it('rejects input that does not match the schema, naming the field', async () => {
    await expect(sandbox.invoke('echo', { ...ids(), input: { text: 5 } })).rejects.toMatchObject({
      code: SandboxErrorCodes.INVALID_INPUT,
      message: expect.stringContaining('input.text'),
    })
  })
})
