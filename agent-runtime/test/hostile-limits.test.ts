// The hostile corpus, part 1: limits. Each misbehaviour fails its own call with its own
// code; the host and a healthy plugin loaded beside it keep working, and so does the
// hostile plugin's next call (its isolate is recreated when the memory limit killed it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

let sandbox: Sandbox
let hostPid: number | undefined

beforeAll(async () => {
  sandbox = await createSandbox()
  hostPid = sandbox.hostPid
  await sandbox.load({
    manifest: manifest('hostile'),
    bundle: await buildFixture('hostile'),
    // Small limits keep the corpus fast; the defaults are tested for their values elsewhere.
    limits: { cpuMs: 150, wallMs: 1500, outputBytes: 64 * 1024, logLines: 100 },
  })
  // V8 thrashes its GC for a few hundred ms before it gives up on a full heap: the memory
  // bombs get CPU enough to reach the memory limit first.
  await sandbox.load({
    manifest: manifest('hog'),
    bundle: await buildFixture('hostile'),
    limits: { cpuMs: 20_000, wallMs: 30_000, memoryMb: 16 },
  })
  await sandbox.load({ manifest: manifest('healthy'), bundle: await buildFixture('trivial') })
})
afterAll(async () => {
  await sandbox?.close()
})

async function expectHealthy(): Promise<void> {
  const r = await sandbox.invoke('healthy', { ...ids(), input: { n: 1 } })
  expect(r.output).toEqual({ n: 2 })
  const h = await sandbox.invoke('hostile', { ...ids(), input: { mode: 'ok' } })
  expect(h.output).toEqual({ ok: true })
  // Same host process: nothing here needed a restart.
  expect(sandbox.hostPid).toBe(hostPid)
}

const cases: [mode: string, code: string, plugin?: string][] = [
  ['loop', C.CPU_LIMIT],
  ['loop-after-await', C.CPU_LIMIT],
  ['regex', C.CPU_LIMIT],
  ['strings', C.MEMORY_LIMIT, 'hog'],
  ['arrays', C.MEMORY_LIMIT, 'hog'],
  ['arraybuffers', C.MEMORY_LIMIT, 'hog'],
  ['recursion', C.STACK_OVERFLOW],
  // Building 2 MB of JSON on a loaded machine can take longer than the small CPU limit.
  ['huge-output', C.OUTPUT_TOO_LARGE, 'hog'],
  ['log-flood', C.LOG_LIMIT],
  ['pending', C.TIMEOUT],
  ['getter-loop', C.CPU_LIMIT],
  ['proxy-loop', C.CPU_LIMIT],
  ['tojson-loop', C.CPU_LIMIT],
  ['thenable-never', C.TIMEOUT],
]

describe('hostile plugins fail their own call with their own code', () => {
  for (const [mode, code, plugin = 'hostile'] of cases) {
    it(`${mode} → ${code}`, async () => {
      const err = await sandbox.invoke(plugin, { ...ids(), input: { mode } }).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toMatchObject({ code })
      await expectHealthy()
      const again = await sandbox.invoke(plugin, { ...ids(), input: { mode: 'ok' } })
      expect(again.output).toEqual({ ok: true })
    })
  }

  it('WebAssembly is not available, so its memory cannot escape the heap limit', async () => {
    await expect(sandbox.invoke('hostile', { ...ids(), input: { mode: 'wasm' } })).rejects.toMatchObject({
      code: C.PLUGIN_FAILED,
      message: expect.stringMatching(/WebAssembly|undefined/),
    })
    await expectHealthy()
  })

  it('a plugin cannot pass its own failure off as a retryable host crash', async () => {
    await expect(
      sandbox.invoke('hostile', { ...ids(), input: { mode: 'forge-crash' } }),
    ).rejects.toMatchObject({
      code: C.PLUGIN_FAILED,
      retryable: false,
    })
  })

  it('unhandled rejections and work left pending after return do not affect the host', async () => {
    const r = await sandbox.invoke('hostile', { ...ids(), input: { mode: 'unhandled' } })
    expect(r.output).toEqual({ returned: true })
    await expectHealthy()
  })

  it('counts the memory-limit deaths as isolate restarts in stats', async () => {
    const stats = await sandbox.stats()
    const hog = stats.plugins.find((p) => p.name === 'hog')!
    const hogCases = cases.filter((c) => c[2] === 'hog')
    // Three memory bombs recycled the isolate; the huge output did not need to.
    expect(hog.isolateRestarts).toBe(3)
    expect(hog.failures).toBe(hogCases.length)
    expect(stats.plugins.find((p) => p.name === 'hostile')!.failures).toBeGreaterThanOrEqual(
      cases.length - hogCases.length,
    )
    expect(stats.plugins.find((p) => p.name === 'healthy')!.failures).toBe(0)
  })

  it('refuses calls beyond the concurrency limit with TOO_MANY_CALLS', async () => {
    const s = await createSandbox()
    try {
      await s.load({
        manifest: manifest('hostile'),
        bundle: await buildFixture('hostile'),
        limits: { concurrency: 2, wallMs: 300 },
      })
      const pending = [1, 2].map(() =>
        s.invoke('hostile', { ...ids(), input: { mode: 'pending' } }).catch((e) => e),
      )
      await expect(s.invoke('hostile', { ...ids(), input: { mode: 'ok' } })).rejects.toMatchObject({
        code: C.TOO_MANY_CALLS,
        retryable: true,
      })
      expect(await Promise.all(pending)).toMatchObject([{ code: C.TIMEOUT }, { code: C.TIMEOUT }])
    } finally {
      await s.close()
    }
  })

  it('a failed call still returns what the plugin logged, and its time', async () => {
    const err = await sandbox
      .invoke('hostile', { ...ids(), input: { mode: 'log-flood' } })
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ code: C.LOG_LIMIT, stats: { cpuUs: expect.any(Number) } })
    expect((err as { logs: unknown[] }).logs).toHaveLength(100)
  })

  it('refuses input larger than the input limit', async () => {
    await expect(
      sandbox.invoke('healthy', { ...ids(), input: { n: 1, pad: 'x'.repeat(2 * 1024 * 1024) } }),
    ).rejects.toMatchObject({ code: C.INPUT_TOO_LARGE })
  })
})
