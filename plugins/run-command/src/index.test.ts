import { ErrorCodes } from '@stavily/sdk'
import { testAction } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'

// The manifest leaves its commands to the operator ("$granted"): this is the test grant.
const granted = {
  manifest: pkg,
  grants: { exec: ['systemctl', 'docker', 'curl', 'echo', 'true'], env: pkg.stavily.permissions.env },
}

describe('run-command', () => {
  it('runs the configured command with the fixed args, then the input args, and returns its result', async () => {
    const { output, calls } = await testAction(plugin, {
      ...granted,
      config: { command: 'systemctl', args: ['--no-pager', 'status'], timeoutMs: 5000, env: { LANG: 'C' } },
      input: { args: ['nginx.service'], stdin: '' },
      exec: { systemctl: { code: 0, stdout: 'active (running)\n' } },
    })
    expect(calls.exec).toEqual([
      {
        command: 'systemctl',
        args: ['--no-pager', 'status', 'nginx.service'],
        options: { timeoutMs: 5000, env: { LANG: 'C' }, stdin: '' },
      },
    ])
    expect(output).toMatchObject({
      command: 'systemctl',
      args: ['--no-pager', 'status', 'nginx.service'],
      code: 0,
      signal: null,
      timedOut: false,
      stdout: 'active (running)\n',
      stderr: '',
      stdoutTruncated: false,
    })
  })

  it('passes shell characters through as plain argument text', async () => {
    const { calls } = await testAction(plugin, {
      ...granted,
      config: { command: 'echo' },
      input: { args: ['$(reboot); rm -rf / | cat > x'] },
      exec: { echo: (call) => ({ stdout: `${call.args.join(' ')}\n` }) },
    })
    expect(calls.exec[0]?.args).toEqual(['$(reboot); rm -rf / | cat > x'])
  })

  it('fails with RUN_COMMAND_FAILED on a non-zero exit, quoting stderr, not retryable', async () => {
    const run = testAction(plugin, {
      ...granted,
      config: { command: 'docker', args: ['restart'] },
      input: { args: ['web'] },
      exec: { docker: { code: 1, stderr: 'Error: No such container: web\n' } },
    })
    await expect(run).rejects.toMatchObject({
      code: 'RUN_COMMAND_FAILED',
      message: 'docker exited with code 1: Error: No such container: web',
      retryable: false,
      data: { code: 1, args: ['restart', 'web'], stderr: 'Error: No such container: web\n' },
    })
  })

  it('reports a timeout as retryable, and a signal by name', async () => {
    await expect(
      testAction(plugin, {
        ...granted,
        config: { command: 'curl' },
        input: { args: ['http://localhost:8080/'] },
        exec: { curl: { code: null, signal: 'SIGKILL', timedOut: true } },
      }),
    ).rejects.toMatchObject({ code: 'RUN_COMMAND_FAILED', message: 'curl timed out', retryable: true })
    await expect(
      testAction(plugin, {
        ...granted,
        config: { command: 'curl' },
        input: {},
        exec: { curl: { code: null, signal: 'SIGSEGV' } },
      }),
    ).rejects.toMatchObject({ message: 'curl was killed by SIGSEGV', retryable: false })
  })

  it('returns a failed result instead of failing when allowFailure is set (input overrides config)', async () => {
    const { output } = await testAction(plugin, {
      ...granted,
      config: { command: 'systemctl', args: ['is-active'] },
      input: { args: ['nginx'], allowFailure: true },
      exec: { systemctl: { code: 3, stdout: 'inactive\n' } },
    })
    expect(output).toMatchObject({ code: 3, stdout: 'inactive\n' })
    await expect(
      testAction(plugin, {
        ...granted,
        config: { command: 'systemctl', args: ['is-active'], allowFailure: true },
        input: { args: ['nginx'], allowFailure: false },
        exec: { systemctl: { code: 3 } },
      }),
    ).rejects.toMatchObject({ code: 'RUN_COMMAND_FAILED' })
  })

  it('keeps the end of long output and marks it truncated', async () => {
    const { output } = await testAction(plugin, {
      ...granted,
      config: { command: 'echo', maxOutputChars: 5 },
      input: { args: ['x'] },
      exec: { echo: { stdout: 'line 1\nlast\n', stderr: 'ok' } },
    })
    expect(output).toMatchObject({
      stdout: 'last\n',
      stdoutTruncated: true,
      stderr: 'ok',
      stderrTruncated: false,
    })
  })

  it('refuses input args that start with "-" unless config.allowInputOptions', async () => {
    const refused = testAction(plugin, {
      ...granted,
      config: { command: 'curl' },
      input: { args: ['http://localhost/', '--output=/etc/passwd'] },
      exec: { curl: { code: 0 } },
    })
    await expect(refused).rejects.toMatchObject({
      code: ErrorCodes.INVALID_INPUT,
      message: expect.stringContaining('input.args[1]'),
    })
    const { calls } = await testAction(plugin, {
      ...granted,
      config: { command: 'curl', allowInputOptions: true },
      input: { args: ['-sf', 'http://localhost/'] },
      exec: { curl: { code: 0 } },
    })
    expect(calls.exec[0]?.args).toEqual(['-sf', 'http://localhost/'])
  })

  it('runs any command the operator grants, and is denied one it did not', async () => {
    const { output } = await testAction(plugin, {
      ...granted,
      grants: { exec: ['/usr/local/bin/backup'] },
      config: { command: '/usr/local/bin/backup' },
      input: { args: ['nightly'] },
      exec: { '/usr/local/bin/backup': { code: 0 } },
    })
    expect(output.code).toBe(0)
    await expect(
      testAction(plugin, {
        ...granted,
        config: { command: 'rm' },
        input: { args: ['x'] },
        exec: { rm: {} },
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'exec', value: 'rm', reason: 'ungranted' },
    })
    await expect(
      testAction(plugin, {
        ...granted,
        grants: { exec: ['echo'] },
        config: { command: 'docker' },
        input: {},
        exec: { docker: {} },
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.PERMISSION_DENIED, data: { reason: 'ungranted' } })
  })

  it('passes only environment names the manifest declares and the operator grants, never a hook', async () => {
    const run = (env: Record<string, string>, grants?: Record<string, unknown>) =>
      testAction(plugin, {
        ...granted,
        ...(grants === undefined ? {} : { grants }),
        config: { command: 'echo', env },
        input: {},
        exec: { echo: {} },
      })
    const { calls } = await run({ LANG: 'C', RUN_MODE: 'safe' })
    expect(calls.exec[0]?.options.env).toEqual({ LANG: 'C', RUN_MODE: 'safe' })
    await expect(run({ GIT_SSH_COMMAND: 'touch /tmp/pwned' })).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      message: expect.stringContaining('exec options.env.GIT_SSH_COMMAND'),
      data: { permission: 'env', reason: 'reserved' },
    })
    // RUN_* is declared, but a pager hook under it is still never passed.
    await expect(run({ RUN_PAGER: 'sh' })).rejects.toMatchObject({ data: { reason: 'reserved' } })
    await expect(run({ FOO: '1' })).rejects.toMatchObject({
      data: { permission: 'env', reason: 'undeclared' },
    })
    await expect(run({ TZ: 'UTC' }, { exec: ['echo'], env: ['LANG'] })).rejects.toMatchObject({
      data: { permission: 'env', value: 'TZ', reason: 'ungranted' },
    })
  })

  it('rejects bad config and input, naming the field', async () => {
    const configs: [Record<string, unknown>, string][] = [
      [{}, 'config.command'],
      [{ command: 'echo hello' }, 'config.command'],
      [{ command: '-rf' }, 'config.command'],
      [{ command: 'echo', cwd: 'tmp' }, 'config.cwd'],
      [{ command: 'echo', args: 'x' }, 'config.args'],
      [{ command: 'echo', shell: true }, 'config.shell'],
    ]
    for (const [config, field] of configs) {
      await expect(
        testAction(plugin, { ...granted, config: config as never, input: {}, exec: { echo: {} } }),
        field,
      ).rejects.toMatchObject({ code: ErrorCodes.INVALID_CONFIG, message: expect.stringContaining(field) })
    }
    const inputs: [Record<string, unknown>, string][] = [
      [{ args: 'nginx' }, 'input.args'],
      [{ args: [1] }, 'input.args[0]'],
      [{ argv: [] }, 'input.argv'],
    ]
    for (const [input, field] of inputs) {
      await expect(
        testAction(plugin, {
          ...granted,
          config: { command: 'echo' },
          input: input as never,
          exec: { echo: {} },
        }),
        field,
      ).rejects.toMatchObject({ code: ErrorCodes.INVALID_INPUT, message: expect.stringContaining(field) })
    }
  })
})
