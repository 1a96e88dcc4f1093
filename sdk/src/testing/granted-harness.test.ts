import { describe, expect, it } from 'vitest'
import { ErrorCodes, isPluginError } from '../index.ts'
import { createTestContext } from './index.ts'

async function rejection(promise: Promise<unknown>) {
  try {
    await promise
  } catch (error) {
    if (!isPluginError(error)) throw error
    return error
  }
  throw new Error('expected a PluginError')
}

const manifest = {
  name: 'generic-check',
  version: '1.0.0',
  stavily: {
    kind: 'action',
    entry: 'src/index.ts',
    sdk: '^1.0.0',
    permissions: { net: ['https://$granted'], exec: ['$granted'], fs: { read: ['$granted'] } },
  },
}

describe('harness: targets left to the operator ($granted)', () => {
  it('grants nothing of them without a test grant, and says how to give one', async () => {
    const { ctx } = createTestContext({ kind: 'action', manifest, fetch: () => ({ status: 200 }) })
    const error = await rejection(ctx.fetch('https://status.example.com/health'))
    expect(error).toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'net', value: 'status.example.com:443', reason: 'ungranted' },
    })
    expect(error.message).toContain('the manifest leaves permissions.net to the operator ("$granted")')
  })

  it('gets exactly the test grant, within the manifest scheme', async () => {
    const { ctx, recorded } = createTestContext({
      kind: 'action',
      manifest,
      grants: { net: ['status.example.com'], exec: ['systemctl'], fs: { read: ['/srv'] } },
      fetch: { 'status.example.com': { status: 204 } },
      exec: { systemctl: { code: 0 } },
      files: { '/srv/a.txt': 'A', '/etc/passwd': 'root' },
    })
    expect((await ctx.fetch('https://status.example.com/health')).status).toBe(204)
    expect((await rejection(ctx.fetch('http://status.example.com/health'))).data).toMatchObject({
      reason: 'undeclared',
    })
    expect((await rejection(ctx.fetch('https://other.example.com/'))).data).toMatchObject({
      reason: 'ungranted',
    })
    expect((await ctx.exec('systemctl', ['is-active', 'nginx'])).code).toBe(0)
    expect((await rejection(ctx.exec('rm', ['-rf', '/']))).data).toMatchObject({ reason: 'ungranted' })
    expect(await ctx.fs.readText('/srv/a.txt')).toBe('A')
    expect((await rejection(ctx.fs.readText('/etc/passwd'))).data).toMatchObject({ reason: 'ungranted' })
    expect(recorded().calls.exec).toHaveLength(1)
  })

  it('refuses $granted in a test grant, naming the field', () => {
    expect(() => createTestContext({ kind: 'action', manifest, grants: { net: ['$granted'] } })).toThrow(
      /grants\.net\[0\]: "\$granted" is for manifests/,
    )
  })
})
