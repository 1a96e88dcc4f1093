import { ErrorCodes, type FsChange } from '@stavily/sdk'
import { testSensor } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'

const dir = '/etc/app'
// The manifest leaves the paths to the operator ("$granted"): the agent's grant decides.
const grants = { fs: { read: [dir] } }
const files = {
  [`${dir}/config.yaml`]: 'a: 1\n',
  [`${dir}/conf.d/extra.yaml`]: 'b: 2\n',
  [`${dir}/notes.txt`]: 'x\n',
}

async function watch(fsChanges: FsChange[], extra: Record<string, unknown> = {}) {
  const r = await testSensor(plugin, {
    manifest: pkg,
    grants,
    files,
    fsChanges,
    config: { paths: [dir], debounceMs: 0, ...extra } as never,
  })
  return { ...r, seen: r.events.map((e) => `${e.type} ${(e.data as { relativePath: string }).relativePath}`) }
}

const c = (type: FsChange['type'], name: string): FsChange => ({ type, path: `${dir}/${name}` })

describe('file-watch', () => {
  it('reports created, modified and deleted files under a watched folder, recursively', async () => {
    const { seen, events, calls } = await watch([
      c('created', 'new.yaml'),
      c('modified', 'conf.d/extra.yaml'),
      c('deleted', 'notes.txt'),
    ])
    expect(seen).toEqual([
      'file-watch.created new.yaml',
      'file-watch.modified conf.d/extra.yaml',
      'file-watch.deleted notes.txt',
    ])
    expect(events[0]).toEqual({
      type: 'file-watch.created',
      data: { name: dir, change: 'created', path: `${dir}/new.yaml`, root: dir, relativePath: 'new.yaml' },
    })
    expect(calls.watches).toEqual([{ path: dir, recursive: true }])
  })

  it("nets an editor's atomic save to one modified of the file, and nothing for its temporary file", async () => {
    const { seen } = await watch([
      c('created', '.config.yaml.swp'),
      c('modified', '.config.yaml.swp'),
      c('deleted', '.config.yaml.swp'), // renamed away over the target:
      c('created', 'config.yaml'), // the target "appears" again, on a new inode
      c('modified', 'config.yaml'),
    ])
    expect(seen).toEqual(['file-watch.modified config.yaml'])
  })

  it('reports a file created then written as created; one deleted and created again as modified', async () => {
    const { seen } = await watch([
      c('created', 'fresh.yaml'),
      c('modified', 'fresh.yaml'),
      c('deleted', 'notes.txt'),
      c('created', 'notes.txt'),
    ])
    expect(seen).toEqual(['file-watch.created fresh.yaml', 'file-watch.modified notes.txt'])
  })

  it('keeps what include matches and exclude does not, and only the changes asked for', async () => {
    const changes = [
      c('modified', 'notes.txt'),
      c('modified', 'conf.d/extra.yaml'),
      c('created', 'conf.d/secret.yaml'),
      c('deleted', 'config.yaml'),
    ]
    const filtered = await watch(changes, { include: ['**/*.{yaml,yml}'], exclude: ['**/secret*'] })
    expect(filtered.seen).toEqual(['file-watch.modified conf.d/extra.yaml', 'file-watch.deleted config.yaml'])
    const top = await watch(changes, { include: ['*.yaml'] })
    expect(top.seen).toEqual(['file-watch.deleted config.yaml'])
    const absolute = await watch(changes, { include: [`${dir}/conf.d/*`] })
    expect(absolute.seen).toEqual([
      'file-watch.modified conf.d/extra.yaml',
      'file-watch.created conf.d/secret.yaml',
    ])
    const deletions = await watch(changes, { changes: ['deleted'] })
    expect(deletions.seen).toEqual(['file-watch.deleted config.yaml'])
  })

  it('watches a single file, not recursively, and names it by its name', async () => {
    const { seen, calls } = await watch([c('modified', 'config.yaml')], { paths: [`${dir}/config.yaml`] })
    expect(seen).toEqual(['file-watch.modified config.yaml'])
    expect(calls.watches).toEqual([{ path: `${dir}/config.yaml`, recursive: false }])
  })

  it('watches only the folder itself with recursive: false', async () => {
    const { calls } = await watch([], { recursive: false })
    expect(calls.watches).toEqual([{ path: dir, recursive: false }])
  })

  it('watches nothing the operator did not grant', async () => {
    await expect(
      testSensor(plugin, { manifest: pkg, files, config: { paths: [dir] } }),
    ).rejects.toMatchObject({ code: ErrorCodes.PERMISSION_DENIED, data: { permission: 'fs.read' } })
    await expect(
      testSensor(plugin, { manifest: pkg, grants, files, config: { paths: ['/etc'] } }),
    ).rejects.toMatchObject({ code: ErrorCodes.PERMISSION_DENIED })
  })

  it('rejects bad config, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ paths: [] }, 'paths'],
      [{ paths: ['etc/app'] }, 'paths'],
      [{ paths: ['/etc/../root'] }, 'config.paths.0'],
      [
        { paths: [dir, `${dir}/conf.d`] },
        'config.paths.1: /etc/app/conf.d is already watched through config.paths.0',
      ],
      [{ paths: [dir], include: ['[z-a]'] }, 'config.include.0'],
      [{ paths: [dir], changes: ['renamed'] }, 'changes'],
      [{ paths: [dir], debounceMs: -1 }, 'debounceMs'],
      [{ paths: [dir], glob: '*' }, 'glob'],
    ]
    for (const [bad, field] of cases) {
      await expect(
        testSensor(plugin, { manifest: pkg, grants, files, config: bad as never }),
        field,
      ).rejects.toMatchObject({ code: ErrorCodes.INVALID_CONFIG, message: expect.stringContaining(field) })
    }
  })
})

describe('file-watch, the recorded event docs/workflows.md dry-runs against', () => {
  it('is what the sensor emits for that atomic save', async () => {
    const recorded = (await import('../test/recorded-event.json', { with: { type: 'json' } })).default
    const { events } = await testSensor(plugin, {
      manifest: pkg,
      grants: { fs: { read: ['/etc/nginx'] } },
      files: recorded.files,
      fsChanges: recorded.fsChanges as FsChange[],
      config: recorded.config as never,
    })
    expect(events).toEqual([recorded.event])
  })
})
