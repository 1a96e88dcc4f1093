import { mkdirSync, realpathSync, symlinkSync } from 'node:fs'
import { unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from '../../../../../test/temp-dir.ts'
import { hostGrants, hostPlugin } from '../../../../test/helpers/host-plugin.ts'
import { SandboxErrorCodes as C } from '../../../errors.ts'
import type { FsOptions } from './fs.ts'
import { type FsChange, hostFsWatch } from './fs-watch.ts'
import type { Stream } from './subscriptions.ts'

// ctx.fs.watch on the host, on real folders: created, modified and deleted files under a
// path the sensor may read, in subfolders only when recursive; paths outside the grant and
// symlinks out of it refused; nothing reported once released.

// realpath: the checks compare resolved paths, and the temp folder may sit behind a link.
const root = realpathSync(tempDir('watch-unit'))
const granted = join(root, 'granted')
const outside = join(root, 'outside')
mkdirSync(join(granted, 'sub'), { recursive: true })
mkdirSync(outside)
symlinkSync(outside, join(granted, 'escape'))

const plugin = hostPlugin({
  kind: 'sensor',
  permissions: { fs: { read: ['$granted'] } },
  grants: { fs: { read: [granted], write: [] } },
})
const o: FsOptions = { guard: hostGrants(plugin).guard, limits: plugin.spec.limits }

const releases: (() => void)[] = []
afterEach(() => {
  for (const release of releases.splice(0)) release()
})

/** A stream that keeps what it is given. */
function collector(): Stream<FsChange> & { items: FsChange[]; errors: Error[] } {
  const items: FsChange[] = []
  const errors: Error[] = []
  return { items, errors, push: (i) => items.push(i), fail: (e) => errors.push(e) }
}

async function watch(path: unknown, options?: unknown) {
  const stream = collector()
  const release = await hostFsWatch(path, options, o, stream)
  releases.push(release)
  return { stream, release }
}

async function waitFor(check: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 10))
  }
}

const has = (items: FsChange[], change: FsChange) =>
  items.some((c) => c.type === change.type && c.path === change.path)

async function rejection(p: Promise<unknown>) {
  try {
    await p
  } catch (err) {
    const e = err as { code: string; message: string; data?: unknown }
    return { code: e.code, message: e.message, data: e.data }
  }
  throw new Error('expected a rejection')
}

let seq = 0
const fresh = (dir = granted) => join(dir, `f${++seq}.txt`)

describe('hostFsWatch', () => {
  it('reports a file created, modified and deleted in a granted folder, in order', async () => {
    const { stream } = await watch(granted)
    const file = fresh()
    await writeFile(file, 'one')
    await waitFor(() => has(stream.items, { type: 'created', path: file }))
    const seen = stream.items.length
    await writeFile(file, 'two')
    await waitFor(() => has(stream.items.slice(seen), { type: 'modified', path: file }))
    await unlink(file)
    await waitFor(() => has(stream.items, { type: 'deleted', path: file }))
    expect(stream.items.map((c) => c.path).every((p) => p === file)).toBe(true)
    const types = stream.items.map((c) => c.type)
    expect(types.indexOf('created')).toBeLessThan(types.lastIndexOf('modified'))
    expect(types.lastIndexOf('modified')).toBeLessThan(types.indexOf('deleted'))
    expect(stream.errors).toEqual([])
  })

  it('watches one granted file', async () => {
    const file = fresh()
    await writeFile(file, 'one')
    const { stream } = await watch(file)
    await writeFile(file, 'two')
    await waitFor(() => has(stream.items, { type: 'modified', path: file }))
  })

  it('sees subfolders only when recursive', async () => {
    const flat = await watch(granted, { recursive: false })
    const plain = await watch(granted, null)
    const deep = await watch(granted, { recursive: true })
    const nested = fresh(join(granted, 'sub'))
    await writeFile(nested, 'x')
    await waitFor(() => has(deep.stream.items, { type: 'created', path: nested }))
    // A top-level file after it: once the flat watches report that, they would have
    // reported the nested one before it.
    const marker = fresh()
    await writeFile(marker, 'x')
    await waitFor(
      () =>
        has(flat.stream.items, { type: 'created', path: marker }) &&
        has(plain.stream.items, { type: 'created', path: marker }),
    )
    for (const w of [flat, plain]) expect(w.stream.items.some((c) => c.path === nested)).toBe(false)
  })

  it('reports nothing once released', async () => {
    const released = await watch(granted)
    released.release()
    const still = await watch(granted)
    const file = fresh()
    await writeFile(file, 'x')
    await waitFor(() => has(still.stream.items, { type: 'created', path: file }))
    expect(released.stream.items).toEqual([])
  })

  it('checks its options', async () => {
    expect(await rejection(hostFsWatch(granted, 'deep', o, collector()))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: 'fs.watch options: expected an object, got "deep"',
      data: undefined,
    })
    expect(await rejection(hostFsWatch(granted, { recursive: 'yes' }, o, collector()))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: 'fs.watch options.recursive: expected true or false, got "yes"',
      data: undefined,
    })
  })

  it('refuses a path outside the grant and a symlink that leads out of it', async () => {
    expect(await rejection(hostFsWatch(outside, undefined, o, collector()))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'fs.read', value: outside, reason: 'ungranted' },
    })
    const link = join(granted, 'escape')
    expect(await rejection(hostFsWatch(link, undefined, o, collector()))).toEqual({
      code: C.PERMISSION_DENIED,
      message: `permission denied: fs.read ${JSON.stringify(link)}: it resolves to ${outside}, outside the granted paths`,
      data: { permission: 'fs.read', value: link, reason: 'symlink' },
    })
    expect(await rejection(hostFsWatch('relative/path', undefined, o, collector()))).toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: expect.stringMatching(/^fs\.watch path: expected an absolute path/),
    })
  })
})
