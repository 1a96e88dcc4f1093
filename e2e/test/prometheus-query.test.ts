// prometheus-query driven by a real Prometheus, through the path a plugin takes to an agent:
// published from a git daemon by the registry, downloaded and verified with the TUF client,
// loaded into the agent's sandbox with a grant for the loopback Prometheus, checked.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSandbox, type Sandbox } from '@stavily/agent'
import { RegistryClient } from '@stavily/registry/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type GitDaemon, PluginRepo, startGitDaemon } from '../src/git.ts'
import { waitFor } from '../src/net.ts'
import { type Exporter, type Prometheus, startExporter, startPrometheus } from '../src/prometheus.ts'
import { type ServedRegistry, startRegistry } from '../src/registry.ts'

const PLUGIN = '@stavily/plugin-prometheus-query'
let tmp: string
let exporter: Exporter
let prometheus: Prometheus
let daemon: GitDaemon
let served: ServedRegistry
let sandbox: Sandbox

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'stavily-e2e-prom-'))
  exporter = await startExporter(1)
  prometheus = await startPrometheus(join(tmp, 'prometheus'), `127.0.0.1:${exporter.port}`)
  const repo = PluginRepo.snapshot(join(tmp, 'git'))
  daemon = await startGitDaemon(join(tmp, 'git'))
  served = await startRegistry(tmp)
  const published = await served.registry.publish({
    repo: daemon.url(repo),
    ref: 'main',
    path: 'plugins/prometheus-query',
  })
  const client = new RegistryClient({
    baseUrl: served.baseUrl,
    cacheDir: join(tmp, 'tuf'),
    trustedRoot: await served.registry.trustedRoot(),
  })
  await client.refresh()
  const { bytes, target } = await client.download(PLUGIN, published.version.version)
  sandbox = await createSandbox()
  // The manifest from the signed target, as the agent builds it (never from unsigned data).
  await sandbox.load({
    manifest: {
      name: target.name,
      version: target.version,
      stavily: { kind: target.kind, entry: 'index.js', sdk: target.sdk, permissions: target.permissions },
    },
    bundle: new TextDecoder().decode(bytes),
    grants: { net: ['127.0.0.1'] },
  })
}, 180_000)

afterAll(async () => {
  await sandbox?.close()
  await served?.close()
  await daemon?.close()
  await prometheus?.close()
  await exporter?.close()
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

let n = 0
const check = () =>
  sandbox.invoke(PLUGIN, {
    invocationId: `check-${++n}`,
    idempotencyKey: `check-${n}`,
    config: {
      url: prometheus.url,
      query: 'stavily_e2e_queue_depth{job="e2e"}',
      operator: '>',
      threshold: 5,
      name: 'queue-depth',
      notifyResolved: true,
    },
  })

describe('prometheus-query against a real Prometheus', () => {
  it('emits nothing below the threshold, prometheus.threshold once it is crossed, prometheus.resolved after', async () => {
    await waitFor('Prometheus to scrape the exporter', async () =>
      (await prometheus.value('stavily_e2e_queue_depth')) === 1 ? true : undefined,
    )
    expect((await check()).events).toEqual([])

    exporter.set(42)
    await waitFor('Prometheus to see 42', async () =>
      (await prometheus.value('stavily_e2e_queue_depth')) === 42 ? true : undefined,
    )
    const crossed = await check()
    expect(crossed.events).toHaveLength(1)
    expect(crossed.events[0]).toMatchObject({
      type: 'prometheus.threshold',
      data: {
        name: 'queue-depth',
        labels: { __name__: 'stavily_e2e_queue_depth', job: 'e2e', service: 'demo' },
        value: 42,
        operator: '>',
        threshold: 5,
      },
    })
    // Still over: the breach is remembered, nothing new is emitted.
    expect((await check()).events).toEqual([])

    exporter.set(0)
    await waitFor('Prometheus to see 0', async () =>
      (await prometheus.value('stavily_e2e_queue_depth')) === 0 ? true : undefined,
    )
    const resolved = await check()
    expect(resolved.events.map((e) => e.type)).toEqual(['prometheus.resolved'])
  })

  it('a Prometheus that is down is an unavailable (retryable) failure, not an event', async () => {
    await expect(
      sandbox.invoke(PLUGIN, {
        invocationId: 'down',
        idempotencyKey: 'down',
        config: { url: 'http://127.0.0.1:9', query: 'up', operator: '==', threshold: 0 },
      }),
    ).rejects.toMatchObject({ code: 'PROMETHEUS_UNAVAILABLE', retryable: true })
  })
})
