import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createFileStateStore, createMemoryStateStore, type StateStore } from './state-store.ts'

const dirs: string[] = []
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'stavily-state-'))
  dirs.push(d)
  return d
}

async function contract(store: StateStore): Promise<void> {
  expect(await store.get('a', 'k')).toBeUndefined()
  await store.set('a', 'k', { n: 1, list: ['x'] })
  await store.set('b', 'k', 'other plugin')
  expect(await store.get('a', 'k')).toEqual({ n: 1, list: ['x'] })
  expect(await store.get('b', 'k')).toBe('other plugin')
  expect(await store.usage('a')).toBe(Buffer.byteLength('k') + Buffer.byteLength('{"n":1,"list":["x"]}'))
  await store.delete('a', 'k')
  expect(await store.get('a', 'k')).toBeUndefined()
  expect(await store.usage('a')).toBe(0)
}

describe('state stores', () => {
  it('memory: per-plugin JSON values', async () => {
    await contract(createMemoryStateStore())
  })

  it('file: per-plugin JSON values, kept across store instances', async () => {
    const dir = await tempDir()
    await contract(createFileStateStore(dir))
    const first = createFileStateStore(dir)
    await first.set('@acme/plugin', 'cursor', 42)
    const second = createFileStateStore(dir)
    expect(await second.get('@acme/plugin', 'cursor')).toBe(42)
    expect(await readdir(dir)).toContain(`${encodeURIComponent('@acme/plugin')}.json`)
  })

  it('file: concurrent writes to one plugin all land, and no temporary file is left behind', async () => {
    const dir = await tempDir()
    const store = createFileStateStore(dir)
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.set('p', `k${i}`, i)))
    const onDisk = JSON.parse(await readFile(join(dir, 'p.json'), 'utf8')) as Record<string, number>
    expect(Object.keys(onDisk)).toHaveLength(50)
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('file: removes leftovers of an interrupted write on start', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'p.json.123.456.tmp'), '{"half":')
    const store = createFileStateStore(dir)
    expect(await store.get('p', 'x')).toBeUndefined()
    expect(await readdir(dir)).toEqual([])
  })
})
