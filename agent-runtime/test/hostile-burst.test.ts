// The hostile corpus, a burst of busy calls: with the default limits, 20 concurrent calls of
// a plugin that loops forever. The host runs their CPU slices in turns and reads its
// messages between them, so its supervisor (default heartbeat) never sees it hang and never
// kills it; each busy call fails alone with CPU_LIMIT, those past the plugin's concurrency
// limit with TOO_MANY_CALLS, and a neighbour plugin answers while the burst still runs.
// About 16 s: sixteen calls each use their full 1 s of CPU, as in the issue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, DEFAULT_LIMITS, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

let sandbox: Sandbox

beforeAll(async () => {
  sandbox = await createSandbox()
  await sandbox.load({ manifest: manifest('busy'), bundle: await buildFixture('hostile') })
  await sandbox.load({ manifest: manifest('healthy'), bundle: await buildFixture('trivial') })
})
afterAll(async () => {
  await sandbox?.close()
})

describe('a burst of busy calls', () => {
  it('fails the busy calls alone; the host is not restarted and the neighbour answers during the burst', async () => {
    const hostPid = sandbox.hostPid
    const burst = Array.from({ length: DEFAULT_LIMITS.concurrency + 4 }, () =>
      sandbox.invoke('busy', { ...ids(), input: { mode: 'loop' } }).then(
        () => 'returned',
        (e: { code: string }) => e.code,
      ),
    )
    let burstOver = false
    void Promise.all(burst).then(() => {
      burstOver = true
    })
    const neighbour = await sandbox.invoke('healthy', { ...ids(), input: { n: 1 } })
    expect(neighbour.output).toEqual({ n: 2 })
    expect(burstOver).toBe(false)

    const codes = await Promise.all(burst)
    expect(codes.filter((c) => c === C.CPU_LIMIT)).toHaveLength(DEFAULT_LIMITS.concurrency)
    expect(codes.filter((c) => c === C.TOO_MANY_CALLS)).toHaveLength(4)
    expect(sandbox.hostPid).toBe(hostPid)
    expect((await sandbox.stats()).hostRestarts).toBe(0)
    expect((await sandbox.invoke('healthy', { ...ids(), input: { n: 2 } })).output).toEqual({ n: 3 })
  }, 90_000)
})
