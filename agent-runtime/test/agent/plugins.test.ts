// Plugin sync against a real registry: a new version hot-swapped under load with no failed
// call, a tampered artifact refused (the instruction fails non-retryable, naming why), and
// the cached, verified plugins running after a restart with orchestrator and registry down.
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'

// Each test starts agent processes (and their sandbox hosts) on a 2-core box shared with
// other suites: generous time, no timing assertions.
vi.setConfig({ testTimeout: 180_000 })

import { startTamperProxy } from '@stavily/registry/testing'
import { tempDir } from '../../../test/temp-dir.ts'
import { type AgentProcess, startAgent } from './helpers/agent-process.ts'
import {
  call,
  ECHO_PERMISSIONS,
  echoSource,
  enqueue,
  type Platform,
  platform,
  setups,
  until,
} from './helpers/platform.ts'

const ECHO = '@acme/stavily-plugin-echo'

describe.each(setups())('agent plugin sync on $name', (setup) => {
  let p: Platform
  const agents: AgentProcess[] = []

  beforeAll(async () => {
    await setup.prepare()
    // The orchestrator's own registry keys in a folder, so a second instance on the same
    // database (the restart below) trusts the same root.
    const keysDir = join(tempDir('orch-keys'), 'keys')
    p = await platform(await setup.start({ registry: { keysDir } } as Record<string, unknown>))
    await p.publish(ECHO, '1.0.0', echoSource('1'), { permissions: ECHO_PERMISSIONS })
    await p.publish(ECHO, '2.0.0', echoSource('2'), { permissions: ECHO_PERMISSIONS })
  }, 180_000)

  // A test that fails half-way must not leave its agents running into the next test.
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop('SIGKILL')
  })

  afterAll(async () => {
    await p?.close()
    await setup.cleanup()
  })

  function agent(dataDir: string, registryUrl: string, extra: string[] = []): AgentProcess {
    const a = startAgent([
      '--orchestrator',
      p.r.url,
      '--registry',
      registryUrl,
      '--data-dir',
      dataDir,
      '--allow-command',
      'sleep',
      '--plugin-sync-ms',
      '1000',
      ...extra,
    ])
    agents.push(a)
    return a
  }

  const get = async (id: string) =>
    (await call(p.r.operatorUrl, 'GET', `/api/v1/instructions/${id}`, { token: p.r.admin })).body

  /** Waits for the pool's agent to have reported `want` loaded (heartbeats carry it). */
  const reportsLoaded = (pool: string, want: { name: string; version: string }[]) =>
    until(
      async () => {
        const res = await call(p.r.operatorUrl, 'GET', '/api/v1/agents?limit=500', { token: p.r.admin })
        const mine = (res.body.items as { pool: string; loadedPlugins: unknown }[]).find(
          (a) => a.pool === pool,
        )
        return JSON.stringify(mine?.loadedPlugins) === JSON.stringify(want)
      },
      60_000,
      `pool ${pool}'s agent reports ${JSON.stringify(want)} loaded`,
    )

  it('hot-swaps to a new version under load without a failed call', async () => {
    await p.enable('swap', ECHO, '1.0.0')
    const a = agent(join(p.root, 'swap'), p.registryUrl, [
      '--enrollment-token',
      await p.token('action', 'swap'),
    ])
    await a.waitForLog((l) => l.msg === 'plugin loaded', 60_000, 'v1 loaded')
    const ids: string[] = []
    let swapped = false
    const load = (async () => {
      // Calls keep arriving before, during and after the swap; some are in flight across it.
      while (!swapped || ids.length < 30) {
        ids.push(
          (await enqueue(p.r, { pool: 'swap', plugin: ECHO, input: { msg: `m${ids.length}`, sleepMs: 200 } }))
            .id,
        )
        await new Promise((r) => setTimeout(r, 60))
      }
    })()
    await until(async () => ids.length >= 10, 30_000, '10 calls enqueued')
    await p.enable('swap', ECHO, '2.0.0')
    await a.waitForLog((l) => l.msg === 'plugin hot-swapped' && l.to === '2.0.0', 30_000, 'hot swap')
    const at = ids.length
    swapped = true
    await load
    const done = await until(
      async () => {
        const all = await Promise.all(ids.map(get))
        return all.every((i) => i.status === 'succeeded' || i.status === 'failed' || i.status === 'dead')
          ? all
          : undefined
      },
      60_000,
      'every call finished',
    )
    expect(done.filter((i) => i.status !== 'succeeded')).toEqual([])
    expect(done.every((i) => i.attempt === 1)).toBe(true)
    const versions = done.map((i) => i.output.version)
    expect(versions.slice(0, 5)).toEqual(['1', '1', '1', '1', '1'])
    expect(versions.slice(at)).toEqual(versions.slice(at).map(() => '2'))
    // Operators see the version the agent runs, from its heartbeat.
    await reportsLoaded('swap', [{ name: ECHO, version: '2.0.0' }])
    await a.stop()
  })

  it('refuses a tampered artifact: the cached copy and the download; the instruction fails non-retryable', async () => {
    const proxy = await startTamperProxy(p.registryUrl)
    try {
      await p.enable('secure', ECHO, '1.0.0')
      const dataDir = join(p.root, 'secure')
      const a = agent(dataDir, proxy.baseUrl, ['--enrollment-token', await p.token('action', 'secure')])
      await a.waitForLog((l) => l.msg === 'plugin loaded', 60_000, 'loaded through the proxy')
      await a.stop()
      // Someone changes the cached bundle on disk, and the mirror serves changed bytes too.
      appendFileSync(
        join(dataDir, 'plugins', encodeURIComponent(ECHO), '1.0.0.js'),
        '\n;globalThis.evil = 1\n',
      )
      // Same length, one byte changed: only the signed sha256 can tell.
      proxy.setRewrite((path, body) => {
        if (!path.includes('/tuf/targets/')) return undefined
        const changed = Buffer.from(body)
        changed[changed.length - 2] = changed[changed.length - 2] === 0x20 ? 0x09 : 0x20
        return changed
      })
      const b = agent(dataDir, proxy.baseUrl)
      await b.waitForLog((l) => l.msg.startsWith('cached plugin artifact refused'), 30_000, 'cache refused')
      const notLoaded = await b.waitForLog((l) => l.msg === 'plugin not loaded', 30_000, 'download refused')
      expect(notLoaded.code).toBe('STAVILY_ERR_AGENT_PLUGIN_REFUSED')
      // The pool is told to load 1.0.0; the agent says it runs nothing, and operators see that.
      await reportsLoaded('secure', [])
      const { id } = await enqueue(p.r, { pool: 'secure', plugin: ECHO, input: { msg: 'x' } })
      const i = await until(
        async () => {
          const x = await get(id)
          return x.status === 'failed' || x.status === 'dead' ? x : undefined
        },
        30_000,
        'instruction failed',
      )
      expect(i.attempt).toBe(1)
      expect(i.error.code).toBe('STAVILY_ERR_AGENT_PLUGIN_REFUSED')
      expect(i.error.retryable).toBe(false)
      expect(i.error.message).toMatch(/verification failed \(tampered\)/)
      await b.stop()
    } finally {
      await proxy.close()
    }
  })

  it('runs the cached, verified plugins after a restart with the orchestrator and registry down', async () => {
    await p.enable('offline', ECHO, '2.0.0')
    // Outside the platform's folder: closing the platform below (registry down) removes
    // that folder, and this agent's stored credential and cache must outlive it.
    const dataDir = tempDir('agent-offline')
    const a = agent(dataDir, p.registryUrl, ['--enrollment-token', await p.token('action', 'offline')])
    await a.waitForLog((l) => l.msg === 'plugin loaded', 60_000, 'loaded')
    await a.stop()

    const port = Number(new URL(p.r.url).port)
    await p.close()
    await p.r.close()
    const b = agent(dataDir, p.registryUrl)
    await b.waitForLog((l) => l.msg === 'plugin loaded' && l.version === '2.0.0', 30_000, 'loaded from cache')
    await b.waitForLog((l) => /failed; retrying/.test(l.msg), 30_000, 'orchestrator unreachable')
    expect(b.count((l) => l.msg === 'plugin downloaded and verified')).toBe(0)

    // The orchestrator comes back (same address); the agent picks up work with the cached plugin.
    const back = await p.r.twin({ listen: { host: '127.0.0.1', port } })
    const { id } = await enqueue(back, { pool: 'offline', plugin: ECHO, input: { msg: 'back' } })
    const i = await until(
      async () => {
        const x = (await call(back.operatorUrl, 'GET', `/api/v1/instructions/${id}`, { token: back.admin }))
          .body
        return x.status === 'succeeded' ? x : undefined
      },
      60_000,
      'instruction run after reconnect',
    )
    expect(i.output).toMatchObject({ version: '2', echo: 'back' })
    await b.stop()
    await back.close()
  })
})
