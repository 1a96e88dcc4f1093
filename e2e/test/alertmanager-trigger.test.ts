// The Prometheus alert trigger against the real thing (issue 14): Prometheus scrapes an
// exporter and evaluates an alerting rule, Alertmanager groups the alert and posts its
// webhook (bearer credential, as operators configure it) to the orchestrator's hook, and a
// run starts from the alert — then another from its resolution.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Alertmanager, startAlertmanager } from '../src/alertmanager.ts'
import { type Api, operatorApi } from '../src/api.ts'
import { dropPlatformData } from '../src/cleanup.ts'
import { waitFor } from '../src/net.ts'
import { type Orchestrator, startOrchestrator } from '../src/orchestrator.ts'
import { type Exporter, type Prometheus, startExporter, startPrometheus } from '../src/prometheus.ts'

const SECRET = 'alertmanager-hook-credential-0123'

const WORKFLOW = `name: on-queue-backlog
trigger:
  webhook:
    secret: ALERTMANAGER_HOOK_KEY
    provider: alertmanager
    filter: trigger.labels.alertname == 'QueueBacklog'
actions:
  - id: drain
    plugin: "@stavily/plugin-run-command"
    version: ^0.1.0
    pool: ops
    input:
      args: ["\${{ trigger.labels.service }}", "\${{ trigger.status }}"]
`

const RULES = `groups:
  - name: e2e
    interval: 1s
    rules:
      - alert: QueueBacklog
        expr: stavily_e2e_queue_depth > 5
        labels:
          severity: critical
        annotations:
          summary: "{{ $labels.service }} has {{ $value }} items waiting"
`

interface RunItem {
  id: string
  event: { source: string; type: string; data: { status: string; labels: Record<string, string> } }
}

let tmp: string
let orchestrator: Orchestrator
let api: Api
let alertmanager: Alertmanager
let exporter: Exporter
let prometheus: Prometheus
let workflowId: string

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'stavily-e2e-alertmanager-'))
  orchestrator = await startOrchestrator({ dir: join(tmp, 'orchestrator') })
  api = operatorApi(orchestrator.operatorUrl, orchestrator.adminToken)
  await api.put('/secrets/ALERTMANAGER_HOOK_KEY', { value: SECRET })
  const applied = await api.post<{ workflow: { id: string } }>('/workflows', { document: WORKFLOW })
  workflowId = applied.workflow.id
  alertmanager = await startAlertmanager(join(tmp, 'alertmanager'), {
    url: `${orchestrator.operatorUrl}/api/v1/hooks/${workflowId}`,
    bearer: SECRET,
  })
  exporter = await startExporter(1)
  prometheus = await startPrometheus(join(tmp, 'prometheus'), `127.0.0.1:${exporter.port}`, {
    rules: RULES,
    alertmanager: alertmanager.address,
  })
}, 180_000)

afterAll(async () => {
  await prometheus?.close()
  await exporter?.close()
  await alertmanager?.close()
  await orchestrator?.stop()
  if (orchestrator) await dropPlatformData(orchestrator.options.schema)
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

const runs = async () =>
  (await api.get<{ items: RunItem[] }>(`/runs?workflow=${workflowId}`)).items.map((r) => r.id)
const eventOf = async (id: string) => (await api.get<RunItem>(`/runs/${id}`)).event

describe('a Prometheus alert through Alertmanager', () => {
  it('starts a run when the alert fires and another when it resolves', async () => {
    exporter.set(12)
    const [firingRun] = await waitFor(
      'a run started by the firing alert',
      async () => {
        const ids = await runs()
        return ids.length > 0 ? ids : undefined
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    )
    const firing = await eventOf(firingRun!)
    expect(firing).toMatchObject({
      source: 'alertmanager',
      type: 'alert',
      data: {
        status: 'firing',
        labels: { alertname: 'QueueBacklog', service: 'demo', severity: 'critical' },
      },
    })

    exporter.set(0)
    const resolvedRun = await waitFor(
      'a run started by the resolution',
      async () => (await runs()).find((id) => id !== firingRun),
      { timeoutMs: 60_000, intervalMs: 250 },
    )
    expect(await eventOf(resolvedRun)).toMatchObject({
      source: 'alertmanager',
      data: { status: 'resolved', labels: { alertname: 'QueueBacklog', service: 'demo' } },
    })
    // Alertmanager re-sends nothing new for these two: exactly one run each.
    expect(await runs()).toHaveLength(2)
  })
})
