import { ErrorCodes } from '@stavily/sdk'
import { testAction } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.js'

// The harness reads the permissions from package.json, as the agent's sandbox will, and
// answers `ctx.exec` with fakes: no real systemctl runs.
describe('restart action', () => {
  it('restarts the service with systemctl and reports it', async () => {
    const { output, calls, logs } = await testAction(plugin, {
      manifest: pkg,
      input: { service: 'nginx.service' },
      exec: { systemctl: { code: 0 } },
    })
    expect(output).toEqual({ restarted: true, service: 'nginx.service' })
    expect(calls.exec).toEqual([
      { command: 'systemctl', args: ['restart', 'nginx.service'], options: { timeoutMs: 30_000 } },
    ])
    expect(logs).toContainEqual({
      level: 'info',
      message: 'service restarted',
      fields: { service: 'nginx.service' },
    })
  })

  it('uses the configured timeout', async () => {
    const { calls } = await testAction(plugin, {
      manifest: pkg,
      config: { timeoutSeconds: 5 },
      input: { service: 'nginx' },
      exec: { systemctl: { code: 0 } },
    })
    expect(calls.exec[0]?.options).toEqual({ timeoutMs: 5000 })
  })

  it('fails with systemctl’s message when the restart fails, and does not ask for a retry', async () => {
    const failing = testAction(plugin, {
      manifest: pkg,
      input: { service: 'nope' },
      exec: {
        systemctl: { code: 5, stderr: 'Failed to restart nope.service: Unit nope.service not found.\n' },
      },
    })
    await expect(failing).rejects.toMatchObject({
      code: 'RESTART_FAILED',
      retryable: false,
      message: expect.stringContaining('Unit nope.service not found'),
    })
  })

  it('asks for a retry when systemctl times out', async () => {
    const slow = testAction(plugin, {
      manifest: pkg,
      input: { service: 'nginx' },
      exec: { systemctl: { timedOut: true, code: null, signal: 'SIGKILL' } },
    })
    await expect(slow).rejects.toMatchObject({ code: 'RESTART_TIMEOUT', retryable: true })
  })

  it('is refused when the operator did not grant systemctl', async () => {
    const denied = testAction(plugin, {
      manifest: pkg,
      grants: { exec: [] },
      input: { service: 'nginx' },
      exec: { systemctl: { code: 0 } },
    })
    await expect(denied).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'exec', value: 'systemctl', reason: 'ungranted' },
    })
  })

  it('rejects an input that would become a systemctl option, before running anything', async () => {
    const injected = testAction(plugin, {
      manifest: pkg,
      input: { service: '--force' },
      exec: { systemctl: { code: 0 } },
    })
    await expect(injected).rejects.toMatchObject({
      code: ErrorCodes.INVALID_INPUT,
      message: expect.stringContaining('input.service'),
    })
  })
})
