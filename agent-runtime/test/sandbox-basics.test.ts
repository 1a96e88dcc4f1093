// Loading and invoking through the real sandbox host child process.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFileStateStore, createSandbox, type Sandbox, SandboxErrorCodes } from '../src/index.ts'
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

  it('validates input in the JSON form the plugin receives', async () => {
    // A Date crosses as its ISO string, which the string schema accepts.
    const at = new Date('2026-01-02T03:04:05Z')
    const r = await sandbox.invoke('echo', { ...ids(), input: { text: at as unknown as string } })
    expect(r.output).toMatchObject({ text: '2026-01-02T03:04:05.000Z' })
  })

  it('rejects input that does not match the schema, naming the field', async () => {
    await expect(sandbox.invoke('echo', { ...ids(), input: { text: 5 } })).rejects.toMatchObject({
      code: SandboxErrorCodes.INVALID_INPUT,
      message: expect.stringContaining('input.text'),
    })
  })
})

describe('outputs and state', () => {
  it('runs an output plugin (send), which may return nothing and has fs.writeText but no exec or emit', async () => {
    await sandbox.load({
      manifest: manifest('notify', { kind: 'output' }),
      bundle: await buildFixture('notify'),
    })
    const r = await sandbox.invoke('notify', { ...ids(), input: { message: 'deployed' } })
    expect(r.output).toBeUndefined()
    expect(r.logs).toMatchObject([
      {
        level: 'info',
        message: 'deployed',
        fields: { exec: 'undefined', emit: 'undefined', writeText: 'function' },
      },
    ])
  })

  it('keeps ctx.state in the agent: with a file store it survives a new sandbox', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stavily-sandbox-state-'))
    try {
      const bundle = await buildFixture('echo')
      for (const expected of [1, 2]) {
        const s = await createSandbox({ stateStore: createFileStateStore(dir) })
        try {
          await s.load({ manifest: manifest('echo'), bundle })
          const r = await s.invoke('echo', { ...ids(), input: { text: 'x' } })
          // Module state starts over in a new sandbox; ctx.state does not.
          expect(r.output).toEqual({ text: 'x', calls: 1, stored: expected })
        } finally {
          await s.close()
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
