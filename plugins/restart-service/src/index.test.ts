import { ErrorCodes } from '@stavily/sdk'
import { type ExecCall, testAction } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'

// The manifest leaves its commands to the operator ("$granted"): this is the test grant.
const granted = {
  manifest: pkg,
  grants: { exec: ['systemctl', 'sudo', 'service', 'supervisorctl', 'docker', 'kubectl', 'curl'] },
}

/** A fake systemctl: restart succeeds, is-active prints `state`. */
const systemctl =
  (state = 'active', restartCode = 0) =>
  (call: ExecCall) => {
    if (call.args[0] === 'restart')
      return {
        code: restartCode,
        stderr:
          restartCode === 0 ? '' : `Failed to restart ${call.args[1]}: Unit ${call.args[1]} not found.\n`,
      }
    return { code: state === 'active' ? 0 : 3, stdout: `${state}\n` }
  }

describe('restart-service with systemd', () => {
  it('runs systemctl restart, then is-active, and reports the service active', async () => {
    const { output, calls } = await testAction(plugin, {
      ...granted,
      input: { unit: 'nginx.service' },
      exec: { systemctl: systemctl() },
    })
    expect(calls.exec.map((c) => [c.command, ...c.args])).toEqual([
      ['systemctl', 'restart', 'nginx.service'],
      ['systemctl', 'is-active', 'nginx.service'],
    ])
    expect(output).toMatchObject({
      unit: 'nginx.service',
      restarted: true,
      active: true,
      state: 'active',
      command: ['systemctl', 'restart', 'nginx.service'],
    })
  })

  it('accepts template instances and goes through sudo -n when configured', async () => {
    const { calls } = await testAction(plugin, {
      ...granted,
      config: { sudo: true, timeoutMs: 30_000 },
      input: { unit: 'getty@tty1.service' },
      exec: { sudo: (call) => systemctl()({ ...call, args: call.args.slice(2) }) },
    })
    expect(calls.exec).toEqual([
      {
        command: 'sudo',
        args: ['-n', 'systemctl', 'restart', 'getty@tty1.service'],
        options: { timeoutMs: 30_000 },
      },
      {
        command: 'sudo',
        args: ['-n', 'systemctl', 'is-active', 'getty@tty1.service'],
        options: { timeoutMs: 30_000 },
      },
    ])
  })

  it('fails with RESTART_SERVICE_NOT_ACTIVE (retryable) when the unit does not come up', async () => {
    const run = testAction(plugin, {
      ...granted,
      input: { unit: 'api' },
      exec: { systemctl: systemctl('failed') },
    })
    await expect(run).rejects.toMatchObject({
      code: 'RESTART_SERVICE_NOT_ACTIVE',
      retryable: true,
      message: 'api was restarted but is not running: systemctl is-active api says "failed"',
      data: { unit: 'api', state: 'failed', code: 3 },
    })
  })

  it('fails with RESTART_SERVICE_FAILED, quoting systemctl, when the restart fails', async () => {
    const run = testAction(plugin, {
      ...granted,
      input: { unit: 'nope' },
      exec: { systemctl: systemctl('active', 5) },
    })
    await expect(run).rejects.toMatchObject({
      code: 'RESTART_SERVICE_FAILED',
      retryable: false,
      message: 'systemctl restart nope exited with code 5: Failed to restart nope: Unit nope not found.',
    })
    const timedOut = testAction(plugin, {
      ...granted,
      input: { unit: 'slow' },
      exec: { systemctl: { code: null, signal: 'SIGKILL', timedOut: true } },
    })
    await expect(timedOut).rejects.toMatchObject({ code: 'RESTART_SERVICE_FAILED', retryable: true })
  })

  it('skips the check when verify is false', async () => {
    const { output, calls } = await testAction(plugin, {
      ...granted,
      config: { verify: false },
      input: { unit: 'nginx' },
      exec: { systemctl: systemctl('failed') },
    })
    expect(calls.exec).toHaveLength(1)
    expect(output).toMatchObject({ restarted: true, active: null, state: null })
  })
})

describe('restart-service with a configured command', () => {
  it('fills {unit} into the command and the verify command', async () => {
    const { output, calls } = await testAction(plugin, {
      ...granted,
      config: {
        command: ['kubectl', 'rollout', 'restart', 'deployment/{unit}'],
        verifyCommand: ['kubectl', 'rollout', 'status', 'deployment/{unit}', '--timeout=60s'],
      },
      input: { unit: 'web' },
      exec: { kubectl: { code: 0 } },
    })
    expect(calls.exec.map((c) => c.args)).toEqual([
      ['rollout', 'restart', 'deployment/web'],
      ['rollout', 'status', 'deployment/web', '--timeout=60s'],
    ])
    expect(output).toMatchObject({
      active: true,
      state: null,
      command: ['kubectl', 'rollout', 'restart', 'deployment/web'],
    })
  })

  it('reports not running when the verify command exits non-zero', async () => {
    const run = testAction(plugin, {
      ...granted,
      config: {
        command: ['supervisorctl', 'restart', '{unit}'],
        verifyCommand: ['supervisorctl', 'status', '{unit}'],
      },
      input: { unit: 'worker' },
      exec: { supervisorctl: (call) => ({ code: call.args[0] === 'status' ? 3 : 0 }) },
    })
    await expect(run).rejects.toMatchObject({
      code: 'RESTART_SERVICE_NOT_ACTIVE',
      message: 'worker was restarted but is not running: supervisorctl status worker exited with code 3',
    })
  })

  it('does not verify without a verifyCommand', async () => {
    const { output, calls } = await testAction(plugin, {
      ...granted,
      config: { command: ['docker', 'restart', '{unit}'] },
      input: { unit: 'demo-web' },
      exec: { docker: { code: 0, stdout: 'demo-web\n' } },
    })
    expect(calls.exec).toHaveLength(1)
    expect(output).toMatchObject({ restarted: true, active: null })
  })
})

describe('restart-service refuses', () => {
  it('unit names that could inject options, shell syntax or paths, naming input.unit', async () => {
    for (const unit of [
      '-H evil',
      '--root=/',
      'nginx;reboot',
      'a b',
      '$(id)',
      'x`y`',
      '../../etc',
      'a/b',
      'n\\x2d',
      'x'.repeat(257),
    ]) {
      const run = testAction(plugin, { ...granted, input: { unit }, exec: { systemctl: systemctl() } })
      await expect(run, unit).rejects.toMatchObject({
        code: ErrorCodes.INVALID_INPUT,
        message: expect.stringContaining('input.unit'),
      })
    }
  })

  it('a unit outside config.allowedUnits, before running anything', async () => {
    const run = testAction(plugin, {
      ...granted,
      config: { allowedUnits: ['nginx.service'] },
      input: { unit: 'sshd.service' },
      exec: { systemctl: systemctl() },
    })
    await expect(run).rejects.toMatchObject({
      code: ErrorCodes.INVALID_INPUT,
      message: expect.stringContaining('config.allowedUnits'),
    })
  })

  it('bad config, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ command: ['docker', 'restart'] }, 'config.command'],
      [{ command: ['{unit}', 'restart'] }, 'config.command[0]'],
      [{ command: [] }, 'config.command'],
      [{ verifyCommand: ['systemctl', 'is-active', '{unit}'] }, 'config.verifyCommand'],
      [{ command: ['docker', 'restart', '{unit}'], sudo: true }, 'config.sudo'],
      [{ unitName: 'x' }, 'config.unitName'],
    ]
    for (const [config, field] of cases) {
      const run = testAction(plugin, {
        ...granted,
        config: config as never,
        input: { unit: 'web' },
        exec: { docker: {}, systemctl: {} },
      })
      await expect(run, field).rejects.toMatchObject({
        code: ErrorCodes.INVALID_CONFIG,
        message: expect.stringContaining(field),
      })
    }
    await expect(testAction(plugin, { ...granted, input: {} as never })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_INPUT,
      message: expect.stringContaining('input.unit'),
    })
  })

  it('a command the operator did not grant', async () => {
    await expect(
      testAction(plugin, {
        ...granted,
        config: { command: ['nomad', 'restart', '{unit}'] },
        input: { unit: 'web' },
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'exec', value: 'nomad', reason: 'ungranted' },
    })
    await expect(
      testAction(plugin, {
        ...granted,
        grants: { exec: ['docker'] },
        input: { unit: 'web' },
        exec: { systemctl: systemctl() },
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { value: 'systemctl', reason: 'ungranted' },
    })
  })
})
