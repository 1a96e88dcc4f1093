import { ErrorCodes, PluginError } from '@stavily/sdk'
import { testAction } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'
import { backoffMs, retryAfterMs } from './retry.ts'

// The manifest leaves the hosts to the operator ("$granted"): the test grant.
const granted = {
  manifest: pkg,
  grants: { net: ['api.example.com'], exec: ['sleep'], secrets: ['HTTP_REQUEST_TOKEN'] },
  secrets: { HTTP_REQUEST_TOKEN: 't0k' },
}
const URL = 'https://api.example.com/v1'

describe('http-request', () => {
  it('builds the URL from base, path and query, sends JSON with the secret header, returns the parsed body', async () => {
    const { output, calls } = await testAction(plugin, {
      ...granted,
      config: { url: URL, secretHeaders: [{ header: 'X-Api-Key', secret: 'HTTP_REQUEST_TOKEN' }] },
      input: { path: '/scale/web', query: { 'dry run': 'a&b' }, body: { replicas: 3 } },
      fetch: {
        'api.example.com': {
          status: 201,
          headers: { 'x-id': '7', 'set-cookie': 'session=s3cret' },
          body: { accepted: true },
        },
      },
    })
    expect(calls.fetch[0]).toMatchObject({
      url: 'https://api.example.com/v1/scale/web?dry%20run=a%26b',
      method: 'POST',
      body: '{"replicas":3}',
      headers: {
        'x-api-key': 't0k',
        'content-type': 'application/json',
        'idempotency-key': 'test-idempotency-key',
      },
    })
    expect(output).toMatchObject({
      status: 201,
      ok: true,
      json: { accepted: true },
      attempts: 1,
      headers: { 'x-id': '7' },
    })
  })

  it('backs off exponentially between attempts on 5xx and network failures, with sleep', async () => {
    const answers = [{ status: 502 }, 'network', { status: 200, body: 'plain text' }]
    const { output, calls } = await testAction(plugin, {
      ...granted,
      config: { url: URL, retryDelayMs: 200 },
      input: {},
      exec: { sleep: { code: 0 } },
      fetch: () => {
        const next = answers.shift()
        if (next === 'network') {
          // What the agent's fetch throws for a refused connection: retryable.
          throw new PluginError(
            ErrorCodes.CAPABILITY_FAILED,
            'fetch https://api.example.com/v1: connect ECONNREFUSED',
            {
              retryable: true,
            },
          )
        }
        return next as { status: number }
      },
    })
    expect(calls.exec.map((c) => c.args)).toEqual([['0.200'], ['0.400']])
    expect(output).toMatchObject({ status: 200, attempts: 3, json: null, body: 'plain text' })
  })

  it('accepts status classes and exact statuses in expectStatus', async () => {
    const { output } = await testAction(plugin, {
      ...granted,
      config: { url: URL, method: 'DELETE', expectStatus: [404, '2xx'] },
      input: {},
      fetch: { 'api.example.com': { status: 404 } },
    })
    expect(output).toMatchObject({ status: 404, ok: false, method: 'DELETE' })
  })

  it('refuses a path that could leave the base URL, naming the field', async () => {
    for (const path of ['/../admin', '/a//b', '/x?y=1', '/./x']) {
      await expect(
        testAction(plugin, {
          ...granted,
          config: { url: URL },
          input: { path },
          fetch: { 'api.example.com': {} },
        }),
        path,
      ).rejects.toMatchObject({
        code: ErrorCodes.INVALID_INPUT,
        message: expect.stringContaining('input.path'),
      })
    }
  })

  it('is denied a host the operator did not grant, and a secret it does not declare', async () => {
    await expect(
      testAction(plugin, {
        ...granted,
        config: { url: 'https://evil.example.org/' },
        input: {},
        fetch: () => ({}),
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.PERMISSION_DENIED, data: { permission: 'net' } })
    await expect(
      testAction(plugin, {
        ...granted,
        config: { url: URL, secretHeaders: [{ header: 'x', secret: 'AWS_SECRET' }] } as never,
        input: {},
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.INVALID_CONFIG,
      message: expect.stringContaining('config.secretHeaders[0].secret'),
    })
  })
})

describe('retry timing', () => {
  const policy = { limit: 3, delayMs: 500, maxDelayMs: 10_000, statuses: [503] }
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-12-07T12:00:00Z')
    expect(retryAfterMs('3', now)).toBe(3000)
    expect(retryAfterMs('Mon, 07 Dec 2026 12:00:05 GMT', now)).toBe(5000)
    expect(retryAfterMs('soon', now)).toBeUndefined()
    expect(retryAfterMs(undefined, now)).toBeUndefined()
  })
  it('doubles the delay per attempt, prefers Retry-After, and caps both', () => {
    expect([1, 2, 3].map((a) => backoffMs(policy, a, undefined))).toEqual([500, 1000, 2000])
    expect(backoffMs(policy, 1, 4000)).toBe(4000)
    expect(backoffMs(policy, 10, undefined)).toBe(10_000)
  })
})
