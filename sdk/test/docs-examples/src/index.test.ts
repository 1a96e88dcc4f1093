import { ErrorCodes, isPluginError } from '@stavily/sdk'
import { testAction } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'

const fakes = {
  manifest: pkg,
  config: { environment: 'test' },
  exec: { systemctl: { code: 0 } },
  secrets: { STATUS_TOKEN: 'test-token' },
  fetch: { 'status.example.com': { status: 200, body: { checkedAt: '2024-05-01T12:00:00Z' } } },
}

describe('restart action', () => {
  it('restarts the service and reports it', async () => {
    const { output, calls, logs } = await testAction(plugin, { ...fakes, input: { service: 'nginx' } })
    expect(output).toEqual({ restarted: true, checkedAt: '2024-05-01T12:00:00Z' })
    expect(calls.exec).toEqual([
      { command: 'systemctl', args: ['restart', 'nginx'], options: { timeoutMs: 30_000 } },
    ])
    expect(calls.fetch[0]?.headers.authorization).toBe('Bearer test-token')
    expect(calls.secrets).toEqual(['STATUS_TOKEN'])
    expect(logs[0]).toMatchObject({ level: 'info', message: 'restarted' })
  })

  it('asks for a retry when the status API is down', async () => {
    const failing = { ...fakes, fetch: { 'status.example.com': { status: 503 } } }
    await expect(testAction(plugin, { ...failing, input: { service: 'nginx' } })).rejects.toMatchObject({
      code: 'STATUS_UNAVAILABLE',
      retryable: true,
    })
  })

  it('rejects a bad input with the field named', async () => {
    const error = await testAction(plugin, { ...fakes, input: { service: 42 } as never }).catch(
      (e: unknown) => e,
    )
    expect(isPluginError(error) && error.code).toBe(ErrorCodes.INVALID_INPUT)
    expect(String((error as Error).message)).toContain('input.service: must be string')
  })

  it('fails like production when the operator did not grant exec', async () => {
    const grants = { net: ['status.example.com'], secrets: ['STATUS_TOKEN'] }
    await expect(testAction(plugin, { ...fakes, grants, input: { service: 'nginx' } })).rejects.toMatchObject(
      {
        code: ErrorCodes.PERMISSION_DENIED,
        data: { permission: 'exec', value: 'systemctl', reason: 'ungranted' },
      },
    )
  })
})
