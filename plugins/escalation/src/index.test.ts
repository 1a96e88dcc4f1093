import { ErrorCodes } from '@stavily/sdk'
import { type FetchCall, testOutput } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'

const ROUTING_KEY = 'R0123456789abcdef0123456789abcde'
const GENIE_KEY = 'eb243592-faa2-4ba2-a551-1afdf565c889'
const secrets = { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, OPSGENIE_API_KEY: GENIE_KEY }
// The manifest leaves its hosts to the operator ("$granted"): this is the test grant.
const granted = {
  manifest: pkg,
  grants: {
    net: ['events.pagerduty.com:443', 'api.opsgenie.com:443', 'api.eu.opsgenie.com:443', '127.0.0.1'],
    secrets: ['PAGERDUTY_ROUTING_KEY', 'OPSGENIE_API_KEY'],
  },
}

/** A fake vendor that records what it got. */
function vendor(status = 202, body: unknown = { status: 'success', message: 'Event processed' }) {
  const got: FetchCall[] = []
  return {
    got,
    fake: (req: FetchCall) => {
      got.push(req)
      return { status, body: body as string }
    },
  }
}

const trigger = {
  dedupKey: 'run-7f3a',
  summary: 'web-1: restart did not bring /health back',
  severity: 'critical' as const,
  source: 'web-1',
  customDetails: { attempts: 3, unit: 'nginx.service' },
  link: 'http://localhost:8080/runs/7f3a',
}

describe('escalation, PagerDuty', () => {
  it('triggers at events.pagerduty.com/v2/enqueue with the routing key in the body', async () => {
    const v = vendor(202, { status: 'success', message: 'Event processed', dedup_key: 'run-7f3a' })
    const { output } = await testOutput(plugin, {
      ...granted,
      config: { provider: 'pagerduty' },
      input: { ...trigger, component: 'nginx', group: 'web', class: 'health' },
      secrets,
      fetch: { 'events.pagerduty.com': v.fake },
    })
    expect(output).toEqual({
      provider: 'pagerduty',
      action: 'trigger',
      dedupKey: 'run-7f3a',
      status: 202,
      message: 'Event processed',
      requestId: null,
    })
    const [req] = v.got
    expect(req).toMatchObject({ url: 'https://events.pagerduty.com/v2/enqueue', method: 'POST' })
    expect(req?.headers).toEqual({ 'content-type': 'application/json' })
    expect(JSON.parse(req!.body!)).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'run-7f3a',
      payload: {
        summary: trigger.summary,
        source: 'web-1',
        severity: 'critical',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        component: 'nginx',
        group: 'web',
        class: 'health',
        custom_details: { attempts: 3, unit: 'nginx.service' },
      },
      client: 'Stavily',
      client_url: 'http://localhost:8080/runs/7f3a',
      links: [{ href: 'http://localhost:8080/runs/7f3a', text: 'Open in Stavily' }],
    })
  })

  it('resolves and acknowledges with only the routing key, the action and the dedup key', async () => {
    for (const action of ['resolve', 'acknowledge'] as const) {
      const v = vendor()
      const { output } = await testOutput(plugin, {
        ...granted,
        config: { provider: 'pagerduty', url: 'http://127.0.0.1:9/' },
        input: { action, dedupKey: 'fp-0a1b2c' },
        secrets,
        fetch: { '127.0.0.1': v.fake },
      })
      expect(output).toMatchObject({ action, dedupKey: 'fp-0a1b2c', status: 202 })
      expect(v.got[0]?.url).toBe('http://127.0.0.1:9/v2/enqueue')
      expect(JSON.parse(v.got[0]!.body!)).toEqual({
        routing_key: ROUTING_KEY,
        event_action: action,
        dedup_key: 'fp-0a1b2c',
      })
    }
  })

  it('fills in the configured source and severity, else "stavily" and "error"', async () => {
    const v = vendor()
    await testOutput(plugin, {
      ...granted,
      config: { provider: 'pagerduty', source: 'ops-agents', severity: 'warning', client: 'Ops' },
      input: { dedupKey: 'k', summary: 's' },
      secrets,
      fetch: { 'events.pagerduty.com': v.fake },
    })
    await testOutput(plugin, {
      ...granted,
      config: { provider: 'pagerduty' },
      input: { dedupKey: 'k', summary: 's' },
      secrets,
      fetch: { 'events.pagerduty.com': v.fake },
    })
    const bodies = v.got.map((r) => JSON.parse(r.body!))
    expect(bodies[0]).toMatchObject({ client: 'Ops', payload: { source: 'ops-agents', severity: 'warning' } })
    expect(bodies[1]).toMatchObject({ client: 'Stavily', payload: { source: 'stavily', severity: 'error' } })
  })

  it('refuses a trigger without a summary, and Opsgenie-only fields, naming the field', async () => {
    const call = (input: Record<string, unknown>) =>
      testOutput(plugin, {
        ...granted,
        config: { provider: 'pagerduty' },
        input: { dedupKey: 'k', ...input },
        secrets,
        fetch: () => ({}),
      })
    await expect(call({})).rejects.toMatchObject({
      code: ErrorCodes.INVALID_INPUT,
      message: expect.stringMatching(/^input\.summary: is required to trigger/),
    })
    await expect(call({ summary: 's', tags: ['web'] })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_INPUT,
      message: 'input.tags: is an Opsgenie field; PagerDuty events have no place for it',
    })
    await expect(call({ action: 'resolve', dedupKey: '' })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_INPUT,
      message: expect.stringContaining('dedupKey'),
    })
  })
})

describe('escalation, Opsgenie', () => {
  it('creates an alert at api.opsgenie.com/v2/alerts with GenieKey auth and the alias', async () => {
    const v = vendor(202, { result: 'Request will be processed', took: 0.302, requestId: '43a29c5c' })
    const { output } = await testOutput(plugin, {
      ...granted,
      config: { provider: 'opsgenie' },
      input: { ...trigger, component: 'nginx', tags: ['web', 'prod'], note: 'restarted twice' },
      secrets,
      fetch: { 'api.opsgenie.com': v.fake },
    })
    expect(output).toEqual({
      provider: 'opsgenie',
      action: 'trigger',
      dedupKey: 'run-7f3a',
      status: 202,
      message: 'Request will be processed',
      requestId: '43a29c5c',
    })
    const [req] = v.got
    expect(req).toMatchObject({ url: 'https://api.opsgenie.com/v2/alerts', method: 'POST' })
    expect(req?.headers).toEqual({
      'content-type': 'application/json',
      authorization: `GenieKey ${GENIE_KEY}`,
    })
    expect(JSON.parse(req!.body!)).toEqual({
      message: trigger.summary,
      alias: 'run-7f3a',
      description: trigger.summary,
      source: 'web-1',
      priority: 'P1',
      entity: 'nginx',
      tags: ['web', 'prod'],
      details: { attempts: '3', unit: 'nginx.service', link: 'http://localhost:8080/runs/7f3a' },
      note: 'restarted twice',
    })
  })

  it('cuts the message at 130 characters and keeps the whole summary as the description', async () => {
    const v = vendor()
    const summary = `${'x'.repeat(200)} end`
    await testOutput(plugin, {
      ...granted,
      config: { provider: 'opsgenie', severity: 'info' },
      input: { dedupKey: 'k', summary },
      secrets,
      fetch: { 'api.opsgenie.com': v.fake },
    })
    const body = JSON.parse(v.got[0]!.body!)
    expect(body.message).toHaveLength(130)
    expect(body.message.endsWith('…')).toBe(true)
    expect(body.description).toBe(summary)
    expect(body.priority).toBe('P5')
  })

  it('closes and acknowledges by alias (escaped in the path), at an EU base URL', async () => {
    for (const [action, verb] of [
      ['resolve', 'close'],
      ['acknowledge', 'acknowledge'],
    ] as const) {
      const v = vendor()
      await testOutput(plugin, {
        ...granted,
        config: { provider: 'opsgenie', url: 'https://api.eu.opsgenie.com' },
        input: { action, dedupKey: 'web/1 down', note: 'recovered' },
        secrets,
        fetch: { 'api.eu.opsgenie.com': v.fake },
      })
      expect(v.got[0]?.url).toBe(
        `https://api.eu.opsgenie.com/v2/alerts/web%2F1%20down/${verb}?identifierType=alias`,
      )
      expect(JSON.parse(v.got[0]!.body!)).toEqual({ source: 'stavily', note: 'recovered' })
    }
  })
})

describe('escalation failures', () => {
  it("fails for good on 4xx, quoting PagerDuty's message and errors", async () => {
    const run = testOutput(plugin, {
      ...granted,
      config: { provider: 'pagerduty' },
      input: { dedupKey: 'run-1', summary: 's' },
      secrets,
      fetch: {
        'events.pagerduty.com': {
          status: 400,
          body: {
            status: 'invalid event',
            message: 'Event object is invalid',
            errors: ["Length of 'routing_key' is incorrect (should be 32 characters)"],
          },
        },
      },
    })
    await expect(run).rejects.toMatchObject({
      code: 'ESCALATION_REJECTED',
      retryable: false,
      message:
        'PagerDuty refused the trigger of "run-1" (HTTP 400): Event object is invalid; Length of \'routing_key\' is incorrect (should be 32 characters)',
      data: { status: 400 },
    })
  })

  it("fails for good on Opsgenie's 422, quoting its field errors", async () => {
    const run = testOutput(plugin, {
      ...granted,
      config: { provider: 'opsgenie' },
      input: { dedupKey: 'run-1', summary: 's' },
      secrets,
      fetch: {
        'api.opsgenie.com': {
          status: 422,
          body: {
            message: 'Request body is not processable. Please check the errors.',
            errors: { message: 'Message can not be empty.' },
            took: 0.001,
            requestId: 'r',
          },
        },
      },
    })
    await expect(run).rejects.toMatchObject({
      code: 'ESCALATION_REJECTED',
      message:
        'Opsgenie refused the trigger of "run-1" (HTTP 422): Request body is not processable. Please check the errors.; message: Message can not be empty.',
    })
  })

  it('fails as retryable on 5xx, 408 and 429, with the Retry-After the vendor asked for', async () => {
    for (const status of [500, 503, 408]) {
      await expect(
        testOutput(plugin, {
          ...granted,
          config: { provider: 'pagerduty' },
          input: { dedupKey: 'k', summary: 's' },
          secrets,
          fetch: { 'events.pagerduty.com': { status, body: 'upstream' } },
        }),
        String(status),
      ).rejects.toMatchObject({ code: 'ESCALATION_UNAVAILABLE', retryable: true, data: { status } })
    }
    await expect(
      testOutput(plugin, {
        ...granted,
        config: { provider: 'opsgenie' },
        input: { action: 'resolve', dedupKey: 'k' },
        secrets,
        fetch: {
          'api.opsgenie.com': {
            status: 429,
            headers: { 'Retry-After': '30' },
            body: { message: 'Too many requests' },
          },
        },
      }),
    ).rejects.toMatchObject({
      code: 'ESCALATION_UNAVAILABLE',
      retryable: true,
      message:
        'Opsgenie could not take the resolve of "k" (HTTP 429): Too many requests; it asks to retry after 30 s',
      data: { status: 429, retryAfterSeconds: 30 },
    })
  })

  it('reaches whatever host the operator grants (a relay), and is denied any other', async () => {
    const v = vendor()
    await testOutput(plugin, {
      manifest: pkg,
      grants: { net: ['pager-relay.example.net:8443'], secrets: ['PAGERDUTY_ROUTING_KEY'] },
      config: { provider: 'pagerduty', url: 'https://pager-relay.example.net:8443/pd' },
      input: { action: 'resolve', dedupKey: 'k' },
      secrets,
      fetch: { 'pager-relay.example.net': v.fake },
    })
    expect(v.got[0]?.url).toBe('https://pager-relay.example.net:8443/pd/v2/enqueue')
    await expect(
      testOutput(plugin, {
        ...granted,
        config: { provider: 'pagerduty', url: 'https://pager.example.com' },
        input: { dedupKey: 'k', summary: 's' },
        secrets,
        fetch: () => ({}),
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'net', reason: 'ungranted' },
    })
  })

  it('is denied the secret of a provider the operator did not grant', async () => {
    await expect(
      testOutput(plugin, {
        manifest: pkg,
        grants: { net: ['api.opsgenie.com:443'], secrets: ['PAGERDUTY_ROUTING_KEY'] },
        config: { provider: 'opsgenie' },
        input: { dedupKey: 'k', summary: 's' },
        secrets,
        fetch: () => ({}),
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.PERMISSION_DENIED, data: { permission: 'secrets' } })
  })

  it('refuses a config URL with a query, naming the field', async () => {
    await expect(
      testOutput(plugin, {
        ...granted,
        config: { provider: 'pagerduty', url: 'https://events.pagerduty.com/v2/enqueue?x=1' },
        input: { dedupKey: 'k', summary: 's' },
        secrets,
        fetch: () => ({}),
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.INVALID_CONFIG, message: expect.stringContaining('url') })
  })
})
