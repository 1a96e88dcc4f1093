// Sensors: events validated against the event schema and returned (check) or streamed
// (watch, until stopped); no fs writes for them, and only the commands the operator granted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type PluginEvent, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

let sandbox: Sandbox

beforeAll(async () => {
  sandbox = await createSandbox()
  await sandbox.load({
    manifest: manifest('sensor', { kind: 'sensor' }),
    bundle: await buildFixture('sensor'),
    limits: { events: 3 },
  })
  // A sensor that declares exec: `echo` granted, `uname` declared but not granted.
  await sandbox.load({
    manifest: manifest('sensor-exec', { kind: 'sensor', permissions: { exec: ['echo', 'uname'] } }),
    bundle: await buildFixture('sensor'),
    grants: { exec: ['echo'] },
  })
  // A watch's event limit is per window (hostile-watch.test.ts): this one streams with the defaults.
  await sandbox.load({
    manifest: manifest('sensor-watch', { kind: 'sensor' }),
    bundle: await buildFixture('sensor'),
  })
})
afterAll(async () => {
  await sandbox?.close()
})

describe('sensors', () => {
  it('check returns the events it emitted', async () => {
    const r = await sandbox.invoke('sensor', { ...ids(), config: { emit: [{ n: 1 }, { n: 2 }] } })
    expect(r.output).toBeUndefined()
    expect(r.events).toEqual([
      { type: 'tick', data: { n: 1 } },
      { type: 'tick', data: { n: 2 } },
    ])
  })

  it('an event that does not match the event schema fails with INVALID_EVENT naming the field', async () => {
    await expect(
      sandbox.invoke('sensor', { ...ids(), config: { emit: [{ n: 'one' }] } }),
    ).rejects.toMatchObject({
      code: C.INVALID_EVENT,
      message: expect.stringContaining('event.data.n'),
    })
  })

  it('more events than the limit fail the call with EVENT_LIMIT', async () => {
    const emit = [1, 2, 3, 4, 5].map((n) => ({ n }))
    await expect(sandbox.invoke('sensor', { ...ids(), config: { emit } })).rejects.toMatchObject({
      code: C.EVENT_LIMIT,
    })
  })

  it('config is validated before the plugin runs', async () => {
    await expect(sandbox.invoke('sensor', { ...ids(), config: {} })).rejects.toMatchObject({
      code: C.INVALID_CONFIG,
      message: expect.stringContaining('config.emit'),
    })
  })

  it('has exec but no fs.writeText (nor smtp)', async () => {
    const r = await sandbox.invoke('sensor', { ...ids(), config: { emit: [], tryExec: true } })
    expect(r.logs[0]?.fields).toMatchObject({ exec: 'function', writeText: 'undefined' })
    expect((r.logs[0]?.fields as { keys: string[] } | undefined)?.keys).not.toContain('smtp')
  })

  it('runs a granted command and reports what it saw', async () => {
    const r = await sandbox.invoke('sensor-exec', {
      ...ids(),
      config: { emit: [], run: { command: 'echo', args: ['observed'] } },
    })
    expect(r.events).toEqual([{ type: 'ran', data: { n: 0, stdout: 'observed\n' } }])
  })

  it('refuses a command the operator did not grant, naming it; and one the manifest does not declare', async () => {
    await expect(
      sandbox.invoke('sensor-exec', { ...ids(), config: { emit: [], run: { command: 'uname', args: [] } } }),
    ).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      message: expect.stringContaining('uname'),
      data: { permission: 'exec', value: 'uname', reason: 'ungranted' },
    })
    await expect(
      sandbox.invoke('sensor', { ...ids(), config: { emit: [], run: { command: 'echo', args: ['x'] } } }),
    ).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'exec', value: 'echo', reason: 'undeclared' },
    })
  })

  it('watch streams events until the caller aborts, then returns', async () => {
    const controller = new AbortController()
    const seen: PluginEvent[] = []
    const done = sandbox.invoke('sensor-watch', {
      ...ids(),
      operation: 'watch',
      config: { emit: [] },
      onEvent(event) {
        seen.push(event)
        if (seen.length === 5) controller.abort()
      },
      signal: controller.signal,
    })
    const r = await done
    expect(seen.length).toBeGreaterThanOrEqual(5)
    expect(seen[0]).toEqual({ type: 'tick', data: { n: 0 }, dedupeKey: 'tick-1' })
    expect(r.events).toEqual([])
  })
})
