// Hostile file reads and writes: a FIFO, a device or a folder in a granted path is refused
// before it is opened (opening a FIFO waits for its other end and would hold a thread of the
// host's small pool, which every plugin's fs and DNS share), and files whose size reads as
// 0 (/proc, /sys) are read to their end within the size limit.
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

/** More FIFOs than libuv's default pool of 4 threads: one blocked open per thread stalls it. */
const FIFOS = 6

let sandbox: Sandbox
let root: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'stavily-hostile-fs-'))
  await mkdir(join(root, 'out'))
  await writeFile(join(root, 'plain.txt'), 'plain')
  for (let i = 0; i < FIFOS; i++) execFileSync('mkfifo', [join(root, `fifo-${i}`)])
  execFileSync('mkfifo', [join(root, 'out', 'fifo-w')])
  sandbox = await createSandbox()
  const fs = { read: [root, '/proc'], write: [join(root, 'out')] }
  await sandbox.load({
    manifest: manifest('caps', { permissions: { fs } }),
    grants: { fs },
    bundle: await buildFixture('caps'),
    limits: { fsReadBytes: 64 * 1024, wallMs: 20_000 },
  })
  await sandbox.load({ manifest: manifest('echo'), bundle: await buildFixture('echo') })
})
afterAll(async () => {
  await sandbox?.close()
  if (root) await rm(root, { recursive: true, force: true })
})

const caps = (input: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  sandbox.invoke('caps', { ...ids(), input, ...extra })

describe('special files', () => {
  it('refuses FIFOs at once, more of them than the thread pool has threads, and the host still reads files and answers the neighbour', async () => {
    const started = Date.now()
    const reads = await Promise.allSettled(
      Array.from({ length: FIFOS }, (_, i) => caps({ op: 'read', path: join(root, `fifo-${i}`) })),
    )
    for (const r of reads) {
      expect(r).toMatchObject({
        status: 'rejected',
        reason: {
          code: C.CAPABILITY_FAILED,
          message: expect.stringContaining('a regular file (it is a FIFO)'),
        },
      })
    }
    // Refused, not timed out: nothing waited for a writer.
    expect(Date.now() - started).toBeLessThan(5_000)
    expect((await caps({ op: 'read', path: join(root, 'plain.txt') })).output).toEqual({ text: 'plain' })
    const echo = await sandbox.invoke('echo', { ...ids(), input: { text: 'still here' } })
    expect(echo.output).toMatchObject({ text: 'still here' })
  })

  it('refuses writing into a FIFO without waiting for a reader', async () => {
    await expect(caps({ op: 'write', path: join(root, 'out', 'fifo-w'), text: 'x' })).rejects.toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: expect.stringContaining('a regular file'),
    })
    expect((await caps({ op: 'write', path: join(root, 'out', 'ok.txt'), text: 'y' })).output).toEqual({
      written: true,
    })
  })

  it('refuses devices and folders by name', async () => {
    await expect(caps({ op: 'read', path: root })).rejects.toMatchObject({
      message: expect.stringContaining('(it is a folder)'),
    })
  })
})

describe('files whose size reads as 0', () => {
  it('reads /proc/self/status to its end, not as one byte', async () => {
    const r = await caps({ op: 'read', path: '/proc/self/status' })
    const text = (r.output as { text: string }).text
    expect(text).toMatch(/^Name:\t/)
    expect(text).toMatch(/\nVmRSS:\s+\d+ kB\n/)
    expect(text.endsWith('\n')).toBe(true)
  })

  it('refuses a /proc file larger than the read limit', async () => {
    // /proc/self/smaps lists every mapping of a Node process: far over 64 KiB.
    await expect(caps({ op: 'read', path: '/proc/self/smaps' })).rejects.toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: expect.stringContaining('larger than the limit of 65536 bytes'),
    })
  })
})
