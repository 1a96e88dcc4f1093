import { Type } from 'typebox'
import { describe, expect, it } from 'vitest'
import { ErrorCodes, isPluginError } from '../index.ts'
import { createTestContext } from './index.ts'

async function rejection(promise: Promise<unknown> | (() => unknown)) {
  try {
    await (typeof promise === 'function' ? promise() : promise)
  } catch (error) {
    if (!isPluginError(error)) throw error
    return error
  }
  throw new Error('expected a PluginError')
}

describe('createTestContext', () => {
  it('gives each kind exactly its capabilities', () => {
    const action = createTestContext({ kind: 'action' }).ctx as unknown as Record<string, unknown>
    const output = createTestContext({ kind: 'output' }).ctx as unknown as Record<string, unknown>
    const sensor = createTestContext({ kind: 'sensor' }).ctx as unknown as Record<string, unknown>
    const has = (ctx: Record<string, unknown>) =>
      ['exec', 'emit', 'sleep', 'isStopping']
        .filter((k) => k in ctx)
        .concat('writeText' in (ctx.fs as object) ? ['fs.writeText'] : [])
    expect(has(action)).toEqual(['exec', 'fs.writeText'])
    expect(has(output)).toEqual(['fs.writeText'])
    expect(has(sensor)).toEqual(['exec', 'emit', 'sleep', 'isStopping'])
    expect(Object.isFrozen(action)).toBe(true)
  })

  it('serves files, lists folders and fails like the agent for missing ones', async () => {
    const { ctx, recorded } = createTestContext({
      kind: 'action',
      permissions: { fs: { read: ['/srv'], write: ['/srv/out'] } },
      files: { '/srv/app/a.log': 'A', '/srv/app/sub/b.log': 'B', '/srv/empty/': '' },
    })
    expect(await ctx.fs.readText('/srv/app/../app/a.log')).toBe('A')
    expect(await ctx.fs.list('/srv')).toEqual(['app', 'empty'])
    expect(await ctx.fs.list('/srv/app')).toEqual(['a.log', 'sub'])
    expect(await ctx.fs.list('/srv/empty')).toEqual([])
    const missing = await rejection(ctx.fs.readText('/srv/app/nope.log'))
    expect(missing).toMatchObject({ code: ErrorCodes.CAPABILITY_FAILED, data: { errno: 'ENOENT' } })
    expect((await rejection(ctx.fs.readText('/srv/app'))).data).toEqual({ errno: 'EISDIR' })
    expect((await rejection(ctx.fs.list('/srv/app/a.log'))).data).toEqual({ errno: 'ENOTDIR' })
    await ctx.fs.writeText('/srv/out/new/report.txt', 'done')
    expect(await ctx.fs.readText('/srv/out/new/report.txt')).toBe('done')
    expect((await rejection(ctx.fs.writeText('/srv/app/a.log', 'x'))).code).toBe(ErrorCodes.PERMISSION_DENIED)
    expect(recorded().files['/srv/out/new/report.txt']).toBe('done')
    expect(recorded().calls.fs[0]).toEqual({ op: 'readText', path: '/srv/app/a.log' })
  })

  it('keeps state as JSON copies and rejects what is not JSON', async () => {
    const { ctx, recorded } = createTestContext({ kind: 'action', state: { cursor: { id: 1 } } })
    const value = { list: [1, 2] }
    await ctx.state.set('k', value)
    value.list.push(3)
    expect(await ctx.state.get('k')).toEqual({ list: [1, 2] })
    const read = (await ctx.state.get('cursor')) as { id: number }
    read.id = 99
    expect(await ctx.state.get('cursor')).toEqual({ id: 1 })
    await ctx.state.delete('cursor')
    expect(await ctx.state.get('cursor')).toBeUndefined()
    const bad = await rejection(ctx.state.set('k', { when: new Date() } as never))
    expect(bad).toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT })
    expect(bad.message).toBe(
      'state.set value.when: expected JSON (null, boolean, number, string, array or plain object), got a Date',
    )
    expect((await rejection(ctx.state.set('', 1))).message).toBe(
      'state.set key: expected a non-empty string, got an empty string',
    )
    expect(recorded().state).toEqual({ k: { list: [1, 2] } })
  })

  it('records logs and rejects log fields that are not JSON', () => {
    const { ctx, recorded } = createTestContext({ kind: 'output' })
    ctx.log.warn('slow', { ms: 1200 })
    ctx.log.debug('plain')
    expect(() => ctx.log.info('x', { fn: (() => 1) as never })).toThrow(/log\.info fields\.fn: expected JSON/)
    expect(recorded().logs).toEqual([
      { level: 'warn', message: 'slow', fields: { ms: 1200 } },
      { level: 'debug', message: 'plain' },
    ])
  })

  it('checks the exec cwd against fs.read, as the sandbox does', async () => {
    const { ctx } = createTestContext({
      kind: 'action',
      permissions: { exec: ['make'], fs: { read: ['/srv/app'] } },
      exec: { make: (call) => ({ stdout: `${call.options.cwd} ${call.args.join(' ')}` }) },
    })
    expect((await ctx.exec('make', ['test'], { cwd: '/srv/app' })).stdout).toBe('/srv/app test')
    expect((await ctx.exec('make', undefined as never)).code).toBe(0)
    expect((await rejection(ctx.exec('make', [], { cwd: '/etc' }))).data).toMatchObject({
      permission: 'fs.read',
      value: '/etc',
    })
  })

  it('names a secret that has no fake value', async () => {
    const { ctx } = createTestContext({ kind: 'sensor', permissions: { secrets: ['TOKEN'] } })
    const error = await rejection(ctx.secrets.get('TOKEN'))
    expect(error.code).toBe(ErrorCodes.TEST_FAKE_MISSING)
    expect(error.message).toBe('harness: secret "TOKEN" has no value; pass secrets: { TOKEN: "..." }')
  })

  it('validates config against a given schema and stops a sensor on request', async () => {
    const configSchema = Type.Object({ url: Type.String() })
    const bad = await rejection(() => createTestContext({ kind: 'sensor', configSchema, config: { url: 1 } }))
    expect(bad).toMatchObject({
      code: ErrorCodes.INVALID_CONFIG,
      message: 'invalid config: config.url: must be string, got number 1',
    })
    const { ctx, stop } = createTestContext<{ url: string }>({
      kind: 'sensor',
      configSchema,
      config: { url: 'x' },
    })
    expect(ctx.config.url).toBe('x')
    expect(ctx.isStopping()).toBe(false)
    stop()
    expect(ctx.isStopping()).toBe(true)
  })

  it('ends a watch loop that neither sleeps nor emits', async () => {
    const { ctx } = createTestContext({ kind: 'sensor' })
    let turns = 0
    while (!ctx.isStopping()) turns++
    expect(turns).toBe(9_999)
  })

  it('rejects an unknown kind and both manifest and permissions', async () => {
    expect((await rejection(() => createTestContext({ kind: 'job' as never }))).message).toBe(
      'harness kind: expected "action", "output" or "sensor", got the string "job"',
    )
    const both = await rejection(() =>
      createTestContext({
        kind: 'action',
        permissions: {},
        manifest: { name: 'x', version: '1.0.0', stavily: {} },
      }),
    )
    expect(both.message).toContain('pass either manifest or permissions, not both')
  })
})
