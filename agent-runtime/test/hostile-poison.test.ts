// The hostile corpus, forged outcomes: a plugin shares its realm with the bootstrap and may
// poison every built-in in it. The bootstrap captured what it needs before any plugin code
// ran, so the host still receives the outcome the bootstrap produced, not what the poisoned
// built-ins would have made of it (the fixture's poisons all say OK with {"forged":true}).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

let sandbox: Sandbox
let hostPid: number | undefined
let seq = 0

beforeAll(async () => {
  sandbox = await createSandbox()
  hostPid = sandbox.hostPid
  await sandbox.load({ manifest: manifest('healthy'), bundle: await buildFixture('trivial') })
})
afterAll(async () => {
  await sandbox?.close()
})

/** Poison stays in a plugin's realm for its next calls: each case gets its own plugin. */
async function poisoned(mode: string) {
  const name = `poison-${++seq}`
  await sandbox.load({
    manifest: manifest(name),
    bundle: await buildFixture('poison'),
    limits: { outputBytes: 64 * 1024 },
  })
  return sandbox.invoke(name, { ...ids(), input: { mode } })
}

describe('a plugin that poisons every built-in cannot forge its outcome', () => {
  it('a thrown error arrives as thrown', async () => {
    await expect(poisoned('throw')).rejects.toMatchObject({
      code: 'REAL_FAILURE',
      message: 'the real failure',
      retryable: false,
    })
  })

  it('a value returned synchronously arrives as returned', async () => {
    expect((await poisoned('ok-sync')).output).toEqual({ ok: 1 })
  })

  it('capabilities keep working, and a value returned after awaiting them arrives as returned', async () => {
    const r = await poisoned('ok-async')
    expect(r.output).toEqual({ got: { n: 1 } })
    expect(r.logs).toMatchObject([{ level: 'info', message: 'hello', fields: { a: 1 } }])
  })

  it('an output over the limit is still too large', async () => {
    await expect(poisoned('too-large')).rejects.toMatchObject({ code: C.OUTPUT_TOO_LARGE })
  })

  it('the neighbour and the host are unaffected', async () => {
    const r = await sandbox.invoke('healthy', { ...ids(), input: { n: 1 } })
    expect(r.output).toEqual({ n: 2 })
    expect(sandbox.hostPid).toBe(hostPid)
  })
})
