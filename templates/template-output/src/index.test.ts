import { ErrorCodes } from '@stavily/sdk'
import { testOutput } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.js'

const config = { url: 'https://hooks.example.com/stavily' }
const secrets = { WEBHOOK_TOKEN: 'test-token' }

// The harness reads the permissions from package.json, as the agent's sandbox will, and
// answers `ctx.fetch` with fakes by host: no real request is sent.
describe('webhook output', () => {
  it('posts the message as JSON with the token, and reports delivery', async () => {
    const { output, calls } = await testOutput(plugin, {
      manifest: pkg,
      config,
      secrets,
      idempotencyKey: 'run-1-step-2',
      input: { title: 'Deploy finished', text: 'api v2.3.1 is live', severity: 'info' },
      fetch: { 'hooks.example.com': { status: 202 } },
    })
    expect(output).toEqual({ delivered: true, status: 202 })
    expect(calls.secrets).toEqual(['WEBHOOK_TOKEN'])
    expect(calls.fetch).toHaveLength(1)
    const request = calls.fetch[0]!
    expect(request).toMatchObject({ method: 'POST', url: config.url })
    expect(request.headers).toMatchObject({
      authorization: 'Bearer test-token',
      'content-type': 'application/json',
      'idempotency-key': 'run-1-step-2',
    })
    expect(JSON.parse(request.body!)).toEqual({
      title: 'Deploy finished',
      text: 'api v2.3.1 is live',
      severity: 'info',
    })
  })

  it('asks for a retry on a 5xx answer, and not on a 401', async () => {
    const input = { title: 't', text: '' }
    await expect(
      testOutput(plugin, {
        manifest: pkg,
        config,
        secrets,
        input,
        fetch: { 'hooks.example.com': { status: 503 } },
      }),
    ).rejects.toMatchObject({ code: 'WEBHOOK_REJECTED', retryable: true, data: { status: 503 } })
    await expect(
      testOutput(plugin, {
        manifest: pkg,
        config,
        secrets,
        input,
        fetch: { 'hooks.example.com': { status: 401 } },
      }),
    ).rejects.toMatchObject({ code: 'WEBHOOK_REJECTED', retryable: false, data: { status: 401 } })
  })

  it('is refused when the operator did not grant the token secret', async () => {
    const denied = testOutput(plugin, {
      manifest: pkg,
      grants: { net: ['hooks.example.com'], secrets: [] },
      config,
      secrets,
      input: { title: 't', text: 'x' },
      fetch: { 'hooks.example.com': { status: 200 } },
    })
    await expect(denied).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'secrets', value: 'WEBHOOK_TOKEN', reason: 'ungranted' },
    })
  })

  it('rejects an empty title, naming the field, before sending anything', async () => {
    const invalid = testOutput(plugin, {
      manifest: pkg,
      config,
      secrets,
      input: { title: '', text: 'x' },
      fetch: { 'hooks.example.com': { status: 200 } },
    })
    await expect(invalid).rejects.toMatchObject({
      code: ErrorCodes.INVALID_INPUT,
      message: expect.stringContaining('input.title'),
    })
  })

  it('rejects a plain-http webhook URL, which would send the token in clear text', async () => {
    const insecure = testOutput(plugin, {
      manifest: pkg,
      config: { url: 'http://hooks.example.com/stavily' },
      secrets,
      input: { title: 't', text: 'x' },
    })
    await expect(insecure).rejects.toMatchObject({ code: ErrorCodes.INVALID_CONFIG })
  })
})
