// A real Prometheus drives the prometheus-query sensor through a workflow: the exporter's
// metric crosses the threshold, the sensor agent reports the event, a run starts and its
// action sees the value.

import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../src/net.ts'
import { type Platform, startPlatform } from '../src/platform.ts'
import { type Exporter, type Prometheus, startExporter, startPrometheus } from '../src/prometheus.ts'

let platform: Platform
let exporter: Exporter
let prometheus: Prometheus

beforeAll(async () => {
  platform = await startPlatform('prom')
  exporter = await startExporter(1)
  prometheus = await startPrometheus(join(platform.dir, 'prometheus'), `127.0.0.1:${exporter.port}`)
}, 180_000)

afterAll(async () => {
  await prometheus?.close()
  await exporter?.close()
  await platform?.close()
})

describe('prometheus-query in a workflow', () => {
  it('starts a run when the metric crosses the threshold', async () => {
    for (const dir of ['prometheus-query', 'run-command']) {
      const v = await platform.publish(dir)
      await platform.enable(v.name, v.version)
    }
    const { workflow } = await platform.apply(`
name: queue-too-deep
trigger:
  sensor:
    plugin: "@stavily/plugin-prometheus-query"
    version: ^0.1.0
    interval: 1s
    config:
      url: "${prometheus.url}"
      query: stavily_e2e_queue_depth
      operator: ">"
      threshold: 5
      name: queue-depth
actions:
  - id: react
    plugin: "@stavily/plugin-run-command"
    version: ^0.1.0
    config: { command: echo }
    input: { args: ["queue depth is \${{ trigger.value }} on \${{ trigger.labels.service }}"] }
`)
    await platform.agent({ name: 'prom-sensor', kind: 'sensor', grants: { hosts: ['127.0.0.1'] } })
    await platform.agent({ name: 'prom-action', kind: 'action', grants: { commands: ['echo'] } })
    await waitFor('Prometheus to scrape the exporter', async () =>
      (await prometheus.value('stavily_e2e_queue_depth')) === 1 ? true : undefined,
    )
    expect(await platform.runsOf(workflow.id)).toEqual([])

    exporter.set(42)
    const [started] = await waitFor(
      'a run of queue-too-deep',
      async () => {
        const runs = await platform.runsOf(workflow.id)
        return runs.length > 0 ? runs : undefined
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    )
    const run = await platform.waitForRun(started!.id)
    expect(run.status, platform.logs()).toBe('succeeded')
    expect(run.event.data).toMatchObject({ name: 'queue-depth', value: 42, labels: { service: 'demo' } })
    const react = run.steps.find((s) => s.stepId === 'react')!
    expect((react.output as { stdout: string }).stdout).toBe('queue depth is 42 on demo\n')
    // Still over the threshold: one breach, one run.
    await waitFor('a few more checks', async () =>
      (await prometheus.value('stavily_e2e_queue_depth')) === 42 ? true : undefined,
    )
    expect(await platform.runsOf(workflow.id)).toHaveLength(1)
  }, 240_000)
})
