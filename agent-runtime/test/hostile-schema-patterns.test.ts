// Hostile schema patterns: the host validates config, input and output against patterns the
// plugin chose, on its main thread and outside every CPU limit. On a backtracking engine
// `^((a)+)+$` takes 2 s at 25 characters and `^\d*\d*\d*\d*\d*z$` over 20 s at 200, freezing
// the host for every plugin; on the linear-time engine long inputs are answered at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

/** Long enough that a backtracking engine would never finish; well inside the input limit. */
const LONG = 50_000

let sandbox: Sandbox

beforeAll(async () => {
  sandbox = await createSandbox()
  await sandbox.load({ manifest: manifest('backtrack'), bundle: await buildFixture('backtrack') })
  await sandbox.load({ manifest: manifest('echo'), bundle: await buildFixture('echo') })
})
afterAll(async () => {
  await sandbox?.close()
})

const backtrack = (input: Record<string, unknown>, config: Record<string, unknown> = {}) =>
  sandbox.invoke('backtrack', { ...ids(), input, config })

describe('schema patterns run in linear time', () => {
  it('output ^((a)+)+$: a long near miss is refused at once, a long match accepted; the neighbour answers', async () => {
    const started = Date.now()
    await expect(backtrack({ give: `${'a'.repeat(LONG)}!` })).rejects.toMatchObject({
      code: C.INVALID_OUTPUT,
      message: expect.stringContaining('output.id'),
    })
    expect((await backtrack({ give: 'a'.repeat(LONG) })).output).toEqual({ id: 'a'.repeat(LONG) })
    expect(Date.now() - started).toBeLessThan(5_000)
    const echo = await sandbox.invoke('echo', { ...ids(), input: { text: 'still here' } })
    expect(echo.output).toMatchObject({ text: 'still here' })
  })

  it('input ^\\d*\\d*\\d*\\d*\\d*z$ and a patternProperties key: long near misses refused at once', async () => {
    const started = Date.now()
    await expect(backtrack({ n: '1'.repeat(LONG) })).rejects.toMatchObject({
      code: C.INVALID_INPUT,
      message: expect.stringContaining('input.n'),
    })
    expect((await backtrack({ n: `${'1'.repeat(LONG)}z` })).output).toEqual({ id: 'a' })
    await expect(backtrack({ labels: { [`${'a'.repeat(LONG)}!`]: 'x' } })).rejects.toMatchObject({
      code: C.INVALID_INPUT,
    })
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('config ^((a)+)+$: a long near miss is refused at once', async () => {
    await expect(backtrack({}, { tag: `${'a'.repeat(LONG)}!` })).rejects.toMatchObject({
      code: C.INVALID_CONFIG,
      message: expect.stringContaining('config.tag'),
    })
  })
})
