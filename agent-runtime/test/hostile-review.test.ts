// The hostile corpus, second round (a review of the first round's fixes as an attacker):
// - a thrown value's text is bounded like every other value a plugin hands over: an error
//   whose name, an unhandled rejection whose message, or a bundle whose load error is
//   megabytes long crossed to the agent (and on to its outbox and the orchestrator) whole,
//   past the output limit that bounds a result;
// - a sensor call's events are bounded in total (limits.eventsBytes), not only in count and
//   each in size: 300 events of 250 KB, each within limits, handed the agent 75 MB in one result;
// - exec's reserved environment names cover option variables that run a program or a file of
//   commands (TAR_OPTIONS' --checkpoint-action=exec, RSYNC_RSH, GETCONF_DIR, MAKEFILES, ...):
//   declared as a pattern and granted, tar ran a command of the plugin's choosing;
// - what a capability call costs the host counts against the call's CPU budget: a watch
//   awaiting state.get in a loop ran 25 s on 16 s of host CPU and 8 s of the agent's (until
//   stopped: forever) while its isolate CPU stayed within limits.cpuMs per window;
// - state operations count against the operations-in-flight caps: thousands of 64 KB
//   state.set calls started without awaiting them queued hundreds of MB in the agent process.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, DEFAULT_LIMITS, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

let sandbox: Sandbox
let hostPid: number | undefined
/** Well above any error text the host passes on (a message is cut at 4,096 characters). */
const MAX_ERROR_TEXT = 8_192
const HUGE = 5_000_000

beforeAll(async () => {
  sandbox = await createSandbox()
  hostPid = sandbox.hostPid
  await sandbox.load({ manifest: manifest('review'), bundle: await buildFixture('review') })
  await sandbox.load({
    manifest: manifest('review-sensor', { kind: 'sensor' }),
    bundle: await buildFixture('review-sensor'),
  })
  await sandbox.load({
    manifest: manifest('review-spin', { kind: 'sensor' }),
    bundle: await buildFixture('review-spin'),
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

async function failure(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; retryable: boolean }> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(Error)
  return e as { code: string; message: string; retryable: boolean }
}

describe('error text a plugin chooses is bounded', () => {
  it('an error named with 5 million characters fails the call with a short message', async () => {
    const e = await failure(sandbox.invoke('review', { ...ids(), input: { mode: 'huge-name', bytes: HUGE } }))
    expect(e.code).toBe(C.PLUGIN_FAILED)
    expect(e.message.length).toBeLessThan(MAX_ERROR_TEXT)
    expect(e.message).toMatch(/^N+\.\.\. \(\d+ more characters\): short$/)
    await expectHostSurvived()
  })

  it('an unhandled rejection of 5 million characters fails the call with a short message', async () => {
    const e = await failure(
      sandbox.invoke('review', { ...ids(), input: { mode: 'huge-rejection', bytes: HUGE } }),
    )
    expect(e.code).toBe(C.PLUGIN_FAILED)
    expect(e.message).toContain('unhandled promise rejection')
    expect(e.message.length).toBeLessThan(MAX_ERROR_TEXT)
    await expectHostSurvived()
  })

  it('a bundle that throws 5 million characters while loading fails its load with a short message', async () => {
    const e = await failure(
      sandbox.load({ manifest: manifest('review-load'), bundle: await buildFixture('review-load') }),
    )
    // Its own code (one only the host sets) is not believed.
    expect(e.code).toBe(C.LOAD_FAILED)
    expect(e.retryable).toBe(false)
    expect(e.message.length).toBeLessThan(MAX_ERROR_TEXT)
    await expectHostSurvived()
  })
})

describe('state operations count against the operations in flight', () => {
  it('300 state.set of 60 KB at once: operationsPerCall run, the rest are refused', async () => {
    const r = await sandbox.invoke('review', {
      ...ids(),
      input: { mode: 'state-flood', count: 300, bytes: 60_000 },
    })
    const perCall = DEFAULT_LIMITS.operationsPerCall
    expect(r.output).toEqual({ ran: perCall, refused: { [C.TOO_MANY_OPERATIONS]: 300 - perCall } })
    // Settled operations free their places.
    const again = await sandbox.invoke('review', {
      ...ids(),
      input: { mode: 'state-flood', count: 3, bytes: 10 },
    })
    expect(again.output).toEqual({ ran: 3, refused: {} })
    await expectHostSurvived()
  })
})

describe("a sensor call's events are bounded in total", () => {
  it('300 events of 250 KB from one check fail it with EVENT_LIMIT naming limits.eventsBytes', async () => {
    const e = await failure(
      sandbox.invoke('review-sensor', {
        ...ids(),
        operation: 'check',
        config: { count: 300, bytes: 250_000 },
      }),
    )
    expect(e.code).toBe(C.EVENT_LIMIT)
    expect(e.message).toContain(
      `more than ${DEFAULT_LIMITS.eventsBytes} bytes of events in one call (limits.eventsBytes)`,
    )
    await expectHostSurvived()
  })

  it('events within the total are delivered', async () => {
    const r = await sandbox.invoke('review-sensor', {
      ...ids(),
      operation: 'check',
      config: { count: 10, bytes: 1_000 },
    })
    expect(r.events).toHaveLength(10)
  })
})

describe('option variables that run other code are reserved', () => {
  // What a hostile manifest declares and a careless operator grants as it is.
  const BROAD = ['T*', 'R*', 'G*', 'M*', 'C*', 'D*', 'A*', 'V*', 'E*', 'K*', 'Q*']
  let root: string
  let outside: string

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'stavily-hostile-review-'))
    outside = join(root, 'outside')
    await mkdir(outside)
    await writeFile(join(root, 'f'), 'x')
    await sandbox.load({
      manifest: manifest('review-caps', { permissions: { exec: ['tar', 'env'], env: BROAD } }),
      grants: { exec: ['tar', 'env'], env: BROAD },
      bundle: await buildFixture('caps'),
      limits: { execTimeoutMs: 5_000 },
    })
  })
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true })
  })

  const exec = (command: string, args: string[], env: Record<string, string>) =>
    sandbox.invoke('review-caps', { ...ids(), input: { op: 'exec', command, args, options: { env } } })

  it('TAR_OPTIONS with a checkpoint action is refused and nothing runs', async () => {
    const canary = join(outside, 'tar-ran')
    await expect(
      exec('tar', ['-cf', '/dev/null', '-C', root, 'f'], {
        TAR_OPTIONS: `--checkpoint=1 --checkpoint-action=exec=touch\\ ${canary}`,
      }),
    ).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'env', value: 'TAR_OPTIONS', reason: 'reserved' },
    })
    expect(await readdir(outside)).toEqual([])
    await expectHostSurvived()
  })

  it.each([
    'RSYNC_RSH',
    'CVS_RSH',
    'GETCONF_DIR',
    'GOFLAGS',
    'MAKEFILES',
    'AWS_CONFIG_FILE',
    'MAVEN_OPTS',
    'DOTNET_STARTUP_HOOKS',
    'CORECLR_PROFILER_PATH',
    'GTK_MODULES',
    'QT_PLUGIN_PATH',
    'VIMINIT',
    'KRB5_CONFIG',
  ])('%s is refused as reserved', async (name) => {
    await expect(exec('env', [], { [name]: join(outside, 'x') })).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'env', value: name, reason: 'reserved' },
    })
  })
})

describe("a watch's host work counts against its CPU budget", () => {
  it('a watch awaiting state.get in a loop fails with CPU_LIMIT instead of running on', async () => {
    const stop = new AbortController()
    // Without the charge it runs until this stop and returns normally; with it, about 1 s.
    const fallback = setTimeout(() => stop.abort(), 15_000)
    try {
      const e = await failure(
        sandbox.invoke('review-spin', {
          ...ids(),
          operation: 'watch',
          config: { mode: 'state' },
          signal: stop.signal,
        }),
      )
      expect(e.code).toBe(C.CPU_LIMIT)
      expect(e.message).toContain('(limits.cpuMs, limits.watchWindowMs)')
    } finally {
      clearTimeout(fallback)
    }
    await expectHostSurvived()
  }, 20_000)
})
