// docs/workflows.md's escalation examples, run on the whole platform: webhook, restart-service
// and escalation published from Git, an action agent, Alertmanager-shaped deliveries to both
// hooks. The notice goes out at once; the page waits for the heal step's retries (queued
// by pg-boss, `delay` apart) and triggers PagerDuty only when every attempt failed; the
// resolution resolves that incident by the alert's fingerprint. The vendor is a loopback
// receiver that checks requests as PagerDuty documents them.
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type VendorReceiver, vendorReceiver } from '../../test/vendor-receiver.ts'
import { adapt, docExample } from '../src/docs-examples.ts'
import { waitFor } from '../src/net.ts'
import { type Platform, startPlatform } from '../src/platform.ts'

const HOOK_KEY = 'e2e-alertmanager-hook-key-0123'
const ROUTING_KEY = 'R0123456789abcdef0123456789abcde'

/** The service the heal step restarts: /health fails until it is told to recover. */
interface Service {
  port: number
  restarts: number[]
  /** Restarts after which /health answers 200 (Infinity: never). */
  healthyAfter: number
  close(): Promise<void>
}

async function startService(): Promise<Service> {
  const s = { restarts: [] as number[], healthyAfter: Number.POSITIVE_INFINITY }
  const server: Server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.startsWith('/restart/')) {
      s.restarts.push(Date.now())
      return res.writeHead(200).end('restarted\n')
    }
    if (req.url === '/health') {
      const ok = s.restarts.length >= s.healthyAfter
      return res.writeHead(ok ? 200 : 503).end(ok ? 'ok\n' : 'down\n')
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return Object.assign(s, {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  })
}

/** A chat webhook receiver: the notices, in order. */
async function startChat(): Promise<{ port: number; texts: string[]; close(): Promise<void> }> {
  const texts: string[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      texts.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text: string }).text)
      res.writeHead(200).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { port, texts, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

let platform: Platform
let vendor: VendorReceiver
let service: Service
let chat: Awaited<ReturnType<typeof startChat>>
const hooks: { notify: string; page: string } = { notify: '', page: '' }

/** Posts one alert as Alertmanager does (bearer credential) to a hook; returns the run ids. */
async function alert(hook: string, status: 'firing' | 'resolved', fingerprint: string): Promise<string[]> {
  const res = await fetch(`${platform.orchestrator.operatorUrl}/api/v1/hooks/${hook}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${HOOK_KEY}` },
    body: JSON.stringify({
      version: '4',
      status,
      receiver: 'stavily',
      groupKey: '{}:{alertname="WebDown"}',
      externalURL: 'http://alertmanager.local:9093',
      alerts: [
        {
          status,
          labels: { alertname: 'WebDown', service: 'web', instance: 'web-1:8080' },
          annotations: { summary: 'web answers 503' },
          startsAt: '2026-12-07T09:00:00Z',
          endsAt: status === 'resolved' ? '2026-12-07T09:20:00Z' : '0001-01-01T00:00:00Z',
          generatorURL: 'http://prometheus.local:9090/graph',
          fingerprint,
        },
      ],
    }),
  })
  const answer = (await res.json()) as { runIds?: string[]; runId?: string | null }
  if (res.status !== 202) throw new Error(`hook answered ${res.status}: ${JSON.stringify(answer)}`)
  return answer.runIds ?? (answer.runId ? [answer.runId] : [])
}

beforeAll(async () => {
  platform = await startPlatform('escalation')
  vendor = await vendorReceiver({ routingKey: ROUTING_KEY, genieKey: 'unused' })
  service = await startService()
  chat = await startChat()
  for (const dir of ['webhook', 'restart-service', 'escalation']) {
    const p = await platform.publish(dir)
    await platform.enable(p.name, p.version)
  }
  await platform.setSecret('ALERTMANAGER_HOOK_KEY', HOOK_KEY)
  await platform.setSecret('PAGERDUTY_ROUTING_KEY', ROUTING_KEY)
  await platform.setSecret('WEBHOOK_URL', `http://127.0.0.1:${chat.port}/services/T/B/X`)

  const notify = await platform.apply(docExample('escalation-notify'))
  const health = `http://127.0.0.1:${service.port}/health`
  const page = await platform.apply(
    adapt(docExample('escalation-page'), [
      // The demo service restarts over HTTP (restart-service's curl form) instead of systemd.
      [
        'command: [systemctl, restart, "{unit}"]',
        `command: [curl, -sf, -X, POST, "http://127.0.0.1:${service.port}/restart/{unit}"]`,
      ],
      ['"http://127.0.0.1:8080/health"', `"${health}"`],
      ['    pool: web\n', ''],
      // Seconds instead of minutes: the same timer, shorter.
      ['delay: 2m', 'delay: 2s'],
      ['limit: 5', 'limit: 2'],
      ['config: { provider: pagerduty }', `config: { provider: pagerduty, url: "${vendor.url}" }`],
      ['config: { provider: pagerduty }', `config: { provider: pagerduty, url: "${vendor.url}" }`],
    ]),
  )
  hooks.notify = notify.workflow.id
  hooks.page = page.workflow.id

  const agent = await platform.agent({
    name: 'action',
    kind: 'action',
    grants: {
      commands: ['curl'],
      hosts: [`127.0.0.1:${vendor.port}`, `127.0.0.1:${chat.port}`],
      secrets: ['PAGERDUTY_ROUTING_KEY', 'WEBHOOK_URL'],
    },
  })
  await waitFor(
    'the action agent to load its three plugins',
    () => agent.child.lines.filter((l) => l.includes('plugin loaded')).length >= 3 || undefined,
    { timeoutMs: 120_000, intervalMs: 250 },
  )
}, 300_000)

afterAll(async () => {
  await platform?.close()
  await vendor?.close()
  await service?.close()
  await chat?.close()
})

describe('notify, then page when still failing (docs/workflows.md, Escalation)', () => {
  it('notifies at once, pages after every heal attempt failed, and resolves on the resolution', async () => {
    const [notifyRun] = await alert(hooks.notify, 'firing', 'fp-down')
    const [pageRun] = await alert(hooks.page, 'firing', 'fp-down')
    expect((await platform.waitForRun(notifyRun!)).status, platform.logs()).toBe('succeeded')
    expect(chat.texts).toEqual(['web is firing: web answers 503'])

    const paged = await platform.waitForRun(pageRun!, 120_000)
    expect(paged.status, platform.logs()).toBe('failed')
    const heal = paged.steps.find((s) => s.stepId === 'heal')!
    expect(heal).toMatchObject({
      status: 'failed',
      attempt: 3,
      error: { code: 'RESTART_SERVICE_NOT_ACTIVE' },
    })
    // Three attempts, each queued again at least the retry delay after the one before.
    expect(service.restarts).toHaveLength(3)
    for (let i = 1; i < service.restarts.length; i++)
      expect(service.restarts[i]! - service.restarts[i - 1]!).toBeGreaterThanOrEqual(1900)

    expect(paged.steps.find((s) => s.stepId === 'page')).toMatchObject({
      status: 'succeeded',
      output: { provider: 'pagerduty', action: 'trigger', dedupKey: 'fp-down', status: 202 },
    })
    expect(paged.steps.find((s) => s.stepId === 'resolve')?.status).toBe('skipped')
    expect(vendor.received).toHaveLength(1)
    expect(vendor.received[0]).toMatchObject({
      method: 'POST',
      path: '/v2/enqueue',
      headers: { 'content-type': 'application/json' },
      body: {
        routing_key: ROUTING_KEY,
        event_action: 'trigger',
        dedup_key: 'fp-down',
        payload: {
          summary: 'web still down after 10 minutes of restarts',
          severity: 'critical',
          source: 'web-1:8080',
          custom_details: {
            run: pageRun,
            error: expect.stringContaining('web.service was restarted but is not running'),
          },
        },
      },
    })
    expect(vendor.incidents.get('fp-down')).toBe('triggered')

    // The alert resolves: the notice says so, and the page's incident is resolved by fingerprint.
    service.healthyAfter = 0
    const [notifyResolved] = await alert(hooks.notify, 'resolved', 'fp-down')
    const [pageResolved] = await alert(hooks.page, 'resolved', 'fp-down')
    await platform.waitForRun(notifyResolved!)
    const resolved = await platform.waitForRun(pageResolved!)
    expect(resolved.status, platform.logs()).toBe('succeeded')
    expect(resolved.steps.find((s) => s.stepId === 'heal')?.status).toBe('skipped')
    expect(chat.texts).toEqual(['web is firing: web answers 503', 'web is resolved: web answers 503'])
    expect(vendor.received.at(-1)?.body).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: 'fp-down',
    })
    expect(vendor.incidents.get('fp-down')).toBe('resolved')
    expect(service.restarts).toHaveLength(3)
  }, 240_000)

  it('pages nobody when a heal attempt brings the service back', async () => {
    service.restarts.length = 0
    service.healthyAfter = 2
    const before = vendor.received.length
    const [pageRun] = await alert(hooks.page, 'firing', 'fp-flap')
    const run = await platform.waitForRun(pageRun!, 120_000)
    expect(run.status, platform.logs()).toBe('succeeded')
    expect(run.steps.find((s) => s.stepId === 'heal')).toMatchObject({ status: 'succeeded', attempt: 2 })
    expect(run.steps.filter((s) => s.kind === 'output').map((s) => [s.stepId, s.status])).toEqual([
      ['page', 'skipped'],
      ['resolve', 'skipped'],
    ])
    expect(vendor.received.length).toBe(before)
    expect(vendor.incidents.has('fp-flap')).toBe(false)
  }, 180_000)
})
