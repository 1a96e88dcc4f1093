// The sandbox host process dies or hangs: the calls in flight fail as retryable
// STAVILY_ERR_SANDBOX_CRASHED, the supervisor restarts the host, reloads the plugins, and
// the next call works.
import { afterEach, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

let sandbox: Sandbox | undefined

afterEach(async () => {
  await sandbox?.close()
  sandbox = undefined
})

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 50))
  }
}

// Each test starts (and restarts) real host processes under tsx: generous timeouts for a
// loaded machine; nothing here asserts speed.
const SLOW = 120_000

describe('supervisor', () => {
  it(
    'restarts a killed host, fails the call in flight as retryable, reloads plugins',
    async () => {
      const diagnostics: string[] = []
      sandbox = await createSandbox({ onDiagnostic: (t) => diagnostics.push(t) })
      await sandbox.load({
        manifest: manifest('hostile'),
        bundle: await buildFixture('hostile'),
        limits: { wallMs: 20_000 },
      })
      await sandbox.load({ manifest: manifest('echo'), bundle: await buildFixture('echo') })
      const first = sandbox.hostPid!
      const inFlight = sandbox.invoke('hostile', { ...ids(), input: { mode: 'pending' } })
      // The call has reached the host once a later message on the same ordered channel
      // is answered: stats goes out after the invoke, and the host reads them in order.
      await sandbox.stats()
      process.kill(first, 'SIGKILL')
      await expect(inFlight).rejects.toMatchObject({ code: C.CRASHED, retryable: true })
      // Calls made while it restarts wait for it, then run on the reloaded plugins.
      const r = await sandbox.invoke('echo', { ...ids(), input: { text: 'after' } })
      expect(r.output).toMatchObject({ text: 'after' })
      expect(sandbox.hostPid).not.toBe(first)
      const stats = await sandbox.stats()
      expect(stats.hostRestarts).toBe(1)
      expect(diagnostics.join('')).toContain('SIGKILL')
    },
    SLOW,
  )

  it(
    'kills and restarts a host that stops answering its heartbeat',
    async () => {
      sandbox = await createSandbox({ supervisor: { heartbeatIntervalMs: 100, hangTimeoutMs: 1500 } })
      await sandbox.load({
        manifest: manifest('hostile'),
        bundle: await buildFixture('hostile'),
        limits: { cpuMs: 200 },
      })
      const first = sandbox.hostPid!
      const inFlight = sandbox.invoke('hostile', { ...ids(), input: { mode: 'pending' } })
      // Answered after the host read the invoke sent before it (one ordered channel).
      await sandbox.stats()
      // A stopped process is the purest hang: alive, silent.
      process.kill(first, 'SIGSTOP')
      await expect(inFlight).rejects.toMatchObject({ code: C.CRASHED, retryable: true })
      const r = await sandbox.invoke('hostile', { ...ids(), input: { mode: 'ok' } })
      expect(r.output).toEqual({ ok: true })
      expect(sandbox.hostPid).not.toBe(first)
    },
    SLOW,
  )

  it(
    'gives a plugin slice its whole CPU limit before calling the host hung',
    async () => {
      sandbox = await createSandbox({ supervisor: { heartbeatIntervalMs: 100, hangTimeoutMs: 500 } })
      // The operator allowed 3 s of CPU, far beyond the hang timeout: the loop blocks the
      // host that long, and that is not a hang.
      await sandbox.load({
        manifest: manifest('hostile'),
        bundle: await buildFixture('hostile'),
        limits: { cpuMs: 3000 },
      })
      const first = sandbox.hostPid
      await expect(sandbox.invoke('hostile', { ...ids(), input: { mode: 'loop' } })).rejects.toMatchObject({
        code: C.CPU_LIMIT,
      })
      expect(sandbox.hostPid).toBe(first)
    },
    SLOW,
  )

  it(
    'a call waiting for a restarting host fails with a retryable timeout at its deadline, without running',
    async () => {
      // A long restart backoff keeps the host down for the whole test.
      sandbox = await createSandbox({
        supervisor: { restartBackoffMinMs: 60_000, restartBackoffMaxMs: 60_000 },
      })
      await sandbox.load({ manifest: manifest('counter'), bundle: await buildFixture('counter-v1') })
      process.kill(sandbox.hostPid!, 'SIGKILL')
      await waitFor(() => sandbox!.hostPid === undefined)
      await expect(
        sandbox.invoke('counter', { ...ids(), input: {}, deadline: Date.now() + 300 }),
      ).rejects.toMatchObject({
        code: C.TIMEOUT,
        retryable: true,
        message: expect.stringContaining('did not run'),
      })
      // It failed at its deadline, not after waiting for the restart: the host is still down
      // (a condition, not a timed assertion, so a slow machine cannot fail it).
      expect(sandbox.hostPid).toBeUndefined()
    },
    SLOW,
  )

  it(
    'fails calls with CLOSED after close, and close is idempotent',
    async () => {
      sandbox = await createSandbox()
      await sandbox.load({ manifest: manifest('echo'), bundle: await buildFixture('echo') })
      const pid = sandbox.hostPid!
      await sandbox.close()
      await sandbox.close()
      await expect(sandbox.invoke('echo', { ...ids(), input: { text: 'x' } })).rejects.toMatchObject({
        code: C.CLOSED,
      })
      await waitFor(() => {
        try {
          process.kill(pid, 0)
          return false
        } catch {
          return true
        }
      })
    },
    SLOW,
  )
})
