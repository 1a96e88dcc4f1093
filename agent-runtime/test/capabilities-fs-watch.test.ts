// ctx.fs.watch on real files: created, modified and deleted under a granted folder reach a
// sensor's watch through its stream, recursively when asked; paths outside the grant, a
// symlink out of it, and actions are refused; the watcher ends with the call.
import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type PluginEvent, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

let sandbox: Sandbox
let dir: string
let outside: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stavily-watch-'))
  outside = await mkdtemp(join(tmpdir(), 'stavily-watch-out-'))
  await mkdir(join(dir, 'sub'))
  await symlink(outside, join(dir, 'escape'))
  sandbox = await createSandbox()
  await sandbox.load({
    manifest: manifest('watcher', { kind: 'sensor', permissions: { fs: { read: ['$granted'] } } }),
    bundle: await buildFixture('data-watch'),
    grants: { fs: { read: [dir], write: [] } },
  })
})
afterAll(async () => {
  await sandbox?.close()
  await rm(dir, { recursive: true, force: true })
  await rm(outside, { recursive: true, force: true })
})

function watch(config: Record<string, unknown>) {
  const seen: PluginEvent[] = []
  const stop = new AbortController()
  const running = sandbox.invoke('watcher', {
    ...ids(),
    operation: 'watch',
    config: { mode: 'watch', ...config },
    deadline: Date.now() + 30_000,
    signal: stop.signal,
    onEvent: (e) => seen.push(e),
  })
  return { seen, stop: () => stop.abort(), running }
}

const items = (seen: PluginEvent[]) => seen.filter((e) => e.type === 'item').map((e) => e.data)

describe('ctx.fs.watch', () => {
  it('reports created, modified and deleted files under a granted folder', async () => {
    const w = watch({ path: dir })
    await waitFor(() => w.seen.some((e) => e.type === 'ready'))
    const file = join(dir, 'a.txt')
    await writeFile(file, 'one')
    await waitFor(() => items(w.seen).some((c) => (c as { type: string }).type === 'created'))
    await writeFile(file, 'two')
    await waitFor(() => items(w.seen).some((c) => (c as { type: string }).type === 'modified'))
    await unlink(file)
    await waitFor(() => items(w.seen).some((c) => (c as { type: string }).type === 'deleted'))
    for (const change of items(w.seen)) expect(change).toMatchObject({ path: file })
    w.stop()
    await w.running
  })

  it('sees changes in subfolders only when recursive', async () => {
    const flat = watch({ path: dir })
    const deep = watch({ path: dir, recursive: true })
    await waitFor(
      () => flat.seen.some((e) => e.type === 'ready') && deep.seen.some((e) => e.type === 'ready'),
    )
    const nested = join(dir, 'sub', 'b.txt')
    await writeFile(nested, 'x')
    await waitFor(() => items(deep.seen).some((c) => (c as { path: string }).path === nested))
    // Give the flat watch the same time to (not) report it.
    await new Promise((r) => setTimeout(r, 300))
    expect(items(flat.seen).some((c) => (c as { path: string }).path === nested)).toBe(false)
    flat.stop()
    deep.stop()
    await Promise.all([flat.running, deep.running])
  })

  it('refuses a path outside the grant and a symlink that leads out of it', async () => {
    await expect(watch({ path: outside }).running).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'fs.read', reason: 'ungranted' },
    })
    await expect(watch({ path: join(dir, 'escape') }).running).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'fs.read', reason: 'symlink' },
    })
  })
})

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 25))
  }
}
