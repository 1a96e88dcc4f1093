// Builds this plugin as the registry does and runs it in the agent's real sandbox against a
// loopback receiver that checks requests as PagerDuty and Opsgenie document them (see
// ../../bundle-check.ts and test/vendor-receiver.ts at the repository root).
import type { Sandbox } from '@stavily/agent'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type VendorReceiver, vendorReceiver } from '../../../test/vendor-receiver.ts'
import { callIds, itBundlesForTheSandbox, loadInSandbox } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

const ROUTING_KEY = 'R0123456789abcdef0123456789abcde'
const GENIE_KEY = 'eb243592-faa2-4ba2-a551-1afdf565c889'

let vendor: VendorReceiver
let sandbox: Sandbox
let name: string

beforeAll(async () => {
  vendor = await vendorReceiver({ routingKey: ROUTING_KEY, genieKey: GENIE_KEY })
  const loaded = await loadInSandbox(import.meta.url, pkg, {
    net: [`127.0.0.1:${vendor.port}`],
    secrets: ['PAGERDUTY_ROUTING_KEY', 'OPSGENIE_API_KEY'],
  })
  sandbox = loaded.sandbox
  name = loaded.name
}, 60_000)

afterAll(async () => {
  await sandbox?.close()
  await vendor?.close()
})

const send = (config: Record<string, unknown>, input: Record<string, unknown>) =>
  sandbox.invoke(name, {
    ...callIds(),
    config: { url: vendor.url, ...config },
    input,
    secrets: { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, OPSGENIE_API_KEY: GENIE_KEY },
  })

describe('escalation bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'output')

  it('opens a PagerDuty incident and resolves it with the same dedup key', async () => {
    const triggered = await send(
      { provider: 'pagerduty' },
      {
        dedupKey: 'fp-9f8e7d',
        summary: 'web-1 still failing <after> 10 min',
        severity: 'critical',
        source: 'web-1',
        customDetails: { unit: 'nginx.service', attempts: 3 },
      },
    )
    expect(triggered.output).toMatchObject({ action: 'trigger', status: 202, message: 'Event processed' })
    expect(vendor.incidents.get('fp-9f8e7d')).toBe('triggered')
    const req = vendor.received.at(-1)!
    expect(req).toMatchObject({ method: 'POST', path: '/v2/enqueue' })
    expect(req.headers['content-type']).toBe('application/json')
    expect(req.body).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'fp-9f8e7d',
      payload: {
        summary: 'web-1 still failing <after> 10 min',
        severity: 'critical',
        custom_details: { unit: 'nginx.service', attempts: 3 },
      },
    })

    const resolved = await send({ provider: 'pagerduty' }, { action: 'resolve', dedupKey: 'fp-9f8e7d' })
    expect(resolved.output).toMatchObject({ action: 'resolve', status: 202 })
    expect(vendor.incidents.get('fp-9f8e7d')).toBe('resolved')
  })

  it('creates and closes an Opsgenie alert by alias with GenieKey auth', async () => {
    const created = await send(
      { provider: 'opsgenie', severity: 'warning' },
      { dedupKey: 'run-42', summary: 'disk almost full on db-1', tags: ['db'] },
    )
    expect(created.output).toMatchObject({ status: 202, message: 'Request will be processed' })
    const create = vendor.received.at(-1)!
    expect(create).toMatchObject({ method: 'POST', path: '/v2/alerts' })
    expect(create.headers.authorization).toBe(`GenieKey ${GENIE_KEY}`)
    expect(create.body).toMatchObject({
      message: 'disk almost full on db-1',
      alias: 'run-42',
      priority: 'P3',
    })

    await send({ provider: 'opsgenie' }, { action: 'resolve', dedupKey: 'run-42', note: 'recovered' })
    expect(vendor.received.at(-1)).toMatchObject({
      path: '/v2/alerts/run-42/close?identifierType=alias',
      body: { source: 'stavily', note: 'recovered' },
    })
    expect(vendor.incidents.get('run-42')).toBe('resolved')
  })

  it("fails for good with the vendor's reason when it refuses the key", async () => {
    const call = sandbox.invoke(name, {
      ...callIds(),
      config: { url: vendor.url, provider: 'pagerduty' },
      input: { dedupKey: 'k', summary: 's' },
      secrets: { PAGERDUTY_ROUTING_KEY: 'wrong-key', OPSGENIE_API_KEY: GENIE_KEY },
    })
    await expect(call).rejects.toMatchObject({
      code: 'ESCALATION_REJECTED',
      retryable: false,
      message:
        'PagerDuty refused the trigger of "k" (HTTP 400): Event object is invalid; Invalid routing key',
    })
  })

  it('fails as retryable on a throttle, carrying Retry-After', async () => {
    vendor.failNext(
      429,
      { status: 'throttled', message: 'Requests for this service are arriving too quickly' },
      {
        'retry-after': '20',
      },
    )
    await expect(send({ provider: 'pagerduty' }, { action: 'resolve', dedupKey: 'k' })).rejects.toMatchObject(
      {
        code: 'ESCALATION_UNAVAILABLE',
        retryable: true,
        data: { status: 429, retryAfterSeconds: 20 },
      },
    )
  })
})
