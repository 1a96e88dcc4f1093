import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { createPermissionGuard, type Permissions } from '@stavily/sdk/manifest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../../../../../test/temp-dir.ts'
import { DEFAULT_LIMITS } from '../../../defaults.ts'
import { SandboxErrorCodes as C } from '../../../errors.ts'
import { describe as shown } from './args.ts'
import { checkCwd, type FsOptions, list, readText, realPath, writeText } from './fs.ts'

// ctx.fs on the host, against real files: a path is checked as written (normalised) and
// again after symlinks are resolved, special files are refused before they are opened, and
// reads stop one byte past the limit.

const LIMIT = 16

// realpath: the checks compare resolved paths, and the temp folder may sit behind a link.
const root = realpathSync(tempDir('caps-fs'))
const granted = join(root, 'granted')
const out = join(granted, 'out')
/** Write grant without a read grant. */
const writeOnly = join(root, 'write-only')
/** Declared in the manifest, not granted by the operator. */
const declaredOnly = join(root, 'declared-only')
const outside = join(root, 'outside')

const fsPermissions = (read: string[], write: string[]): Permissions => ({
  net: [],
  exec: [],
  secrets: [],
  fs: { read, write },
})
const guard = createPermissionGuard(
  fsPermissions([granted, declaredOnly, '/proc', '/dev/null'], [out, writeOnly, declaredOnly]),
  fsPermissions([granted, '/proc', '/dev/null'], [out, writeOnly]),
)
const o: FsOptions = { guard, limits: { ...DEFAULT_LIMITS, fsReadBytes: LIMIT } }
const roomy: FsOptions = { guard, limits: { ...DEFAULT_LIMITS, fsReadBytes: 100_000 } }

let socket: Server

beforeAll(async () => {
  for (const dir of [out, join(granted, 'sub'), join(granted, 'unsorted'), writeOnly, declaredOnly, outside])
    mkdirSync(dir, { recursive: true })
  writeFileSync(join(granted, 'a.txt'), 'inside')
  writeFileSync(join(granted, 'utf8.txt'), 'héllo ✓')
  writeFileSync(join(granted, 'exact.txt'), 'x'.repeat(LIMIT))
  writeFileSync(join(granted, 'over.txt'), 'x'.repeat(LIMIT + 1))
  writeFileSync(join(granted, 'big-exact.txt'), 'b'.repeat(100_000))
  writeFileSync(join(granted, 'big-over.txt'), 'b'.repeat(100_001))
  writeFileSync(join(declaredOnly, 'x.txt'), 'x')
  writeFileSync(join(outside, 'secret.txt'), 'outside secret')
  symlinkSync(join(outside, 'secret.txt'), join(granted, 'escape.txt'))
  symlinkSync(outside, join(granted, 'escape-dir'))
  symlinkSync(join(granted, 'a.txt'), join(granted, 'inner-link.txt'))
  symlinkSync(join(granted, 'sub'), join(granted, 'sub-link'))
  // Created in an order unlike the sorted one.
  // The system lists names in UTF-8 byte order; '😀' and 'Ａ' (U+FF21) sort the other way
  // as JavaScript strings.
  for (const name of ['b', 'C', 'a', '10', '9', 'é', 'B', 'Ａ', '😀'])
    writeFileSync(join(granted, 'unsorted', name), '')
  execFileSync('mkfifo', [join(granted, 'fifo')])
  execFileSync('mkfifo', [join(out, 'fifo')])
  mkdirSync(join(out, 'folder'))
  symlinkSync(join(granted, 'sub'), join(out, 'link-to-read-only'))
  symlinkSync(writeOnly, join(out, 'link-to-write-only'))
  socket = createServer()
  await new Promise<void>((resolve) => socket.listen(join(granted, 'socket'), resolve))
})
afterAll(async () => {
  await new Promise((resolve) => socket?.close(resolve))
})

/** What `p` rejects with, as a plain object of the fields a plugin sees. */
const rejection = async (p: Promise<unknown>) => {
  try {
    await p
  } catch (err) {
    const e = err as { code: string; message: string; data?: unknown }
    return { code: e.code, message: e.message, data: e.data }
  }
  throw new Error('expected a rejection')
}

describe('readText', () => {
  it('reads a granted file as UTF-8', async () => {
    expect(await readText(join(granted, 'a.txt'), o)).toBe('inside')
    expect(await readText(join(granted, 'utf8.txt'), o)).toBe('héllo ✓')
  })

  it('normalises the path before checking it: "." and ".." inside the grant are fine', async () => {
    expect(await readText(`${granted}/sub/../a.txt`, o)).toBe('inside')
    expect(await readText(`${granted}/./a.txt`, o)).toBe('inside')
    // As written, not as the system would walk it: a missing folder before ".." is fine.
    expect(await readText(`${granted}/no-such-folder/../a.txt`, o)).toBe('inside')
    expect((await rejection(readText(`${granted}/no-such-folder/../missing.txt`, o))).message).toBe(
      `fs ${join(granted, 'missing.txt')}: ENOENT`,
    )
  })

  it('reads a file of exactly the limit, and refuses one byte more', async () => {
    expect(await readText(join(granted, 'exact.txt'), o)).toBe('x'.repeat(LIMIT))
    const path = join(granted, 'over.txt')
    expect(await rejection(readText(path, o))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: `fs.readText ${path}: larger than the limit of ${LIMIT} bytes`,
      data: undefined,
    })
  })

  it('reads past one read chunk (64 KiB) to the limit, and refuses one byte more', async () => {
    expect(await readText(join(granted, 'big-exact.txt'), roomy)).toBe('b'.repeat(100_000))
    expect((await rejection(readText(join(granted, 'big-over.txt'), roomy))).message).toMatch(
      /big-over\.txt: larger than the limit of 100000 bytes$/,
    )
  })

  it('reads a file whose size reads as 0 (/proc) to its end, within the limit', async () => {
    const text = await readText('/proc/self/status', roomy)
    expect(text).toMatch(/^Name:\t/)
    expect(text).toMatch(/\nVmRSS:\s+\d+ kB\n/)
    expect(await rejection(readText('/proc/self/status', o))).toMatchObject({
      message: `fs.readText /proc/${process.pid}/status: larger than the limit of ${LIMIT} bytes`,
    })
  })

  it('follows a symlink that stays inside the grant', async () => {
    expect(await readText(join(granted, 'inner-link.txt'), o)).toBe('inside')
  })

  it('refuses a symlink, or a path through a linked folder, that leads out of the grant', async () => {
    const path = join(granted, 'escape.txt')
    expect(await rejection(readText(path, o))).toEqual({
      code: C.PERMISSION_DENIED,
      message: `permission denied: fs.read ${JSON.stringify(path)}: it resolves to ${join(outside, 'secret.txt')}, outside the granted paths`,
      data: { permission: 'fs.read', value: path, reason: 'symlink' },
    })
    const through = join(granted, 'escape-dir', 'secret.txt')
    expect(await rejection(readText(through, o))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'fs.read', value: through, reason: 'symlink' },
    })
  })

  it('refuses paths outside the grant as written, before looking at the file: ".." cannot climb out', async () => {
    const climbed = `${granted}/../outside/secret.txt`
    // Refused as the normalised path, not as a symlink found later.
    expect(await rejection(readText(climbed, o))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'fs.read', value: join(outside, 'secret.txt'), reason: 'undeclared' },
    })
    // Whether a file outside exists is not revealed.
    expect(await rejection(readText(join(outside, 'no-such-file'), o))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { reason: 'undeclared' },
    })
    expect(await rejection(readText(join(declaredOnly, 'x.txt'), o))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'fs.read', reason: 'ungranted' },
    })
  })

  it('fails a missing file with its errno', async () => {
    const path = join(granted, 'missing.txt')
    expect(await rejection(readText(path, o))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: `fs ${path}: ENOENT`,
      data: { errno: 'ENOENT' },
    })
  })

  it('refuses folders, FIFOs, sockets and devices by what they are, without opening them', async () => {
    const cases: [string, string][] = [
      [join(granted, 'sub'), 'a folder'],
      [join(granted, 'fifo'), 'a FIFO'],
      [join(granted, 'socket'), 'a socket'],
      ['/dev/null', 'a device or other special file'],
    ]
    for (const [path, kind] of cases) {
      expect(await rejection(readText(path, o)), path).toEqual({
        code: C.CAPABILITY_FAILED,
        message: `fs.readText path: expected a regular file (it is ${kind}), got ${shown(path)}`,
        data: undefined,
      })
    }
  })

  it.each<[unknown, string]>([
    ['a.txt', 'expected an absolute path, got "a.txt"'],
    ['', 'expected a non-empty string of at most 4096 characters, got ""'],
    [42, 'expected a non-empty string of at most 4096 characters, got number'],
    ['/tmp/a\0b', 'expected a string without NUL characters, got "/tmp/a\\u0000b"'],
  ])('refuses the path %j', async (path, expected) => {
    expect(await rejection(readText(path, o))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: `fs.readText path: ${expected}`,
      data: undefined,
    })
  })

  it('takes a path of 4096 characters to the file system, and refuses 4097', async () => {
    const longest = `${granted}/${'a'.repeat(4096 - granted.length - 1)}`
    expect(longest.length).toBe(4096)
    expect(await rejection(readText(longest, o))).toMatchObject({
      code: C.CAPABILITY_FAILED,
      data: { errno: 'ENAMETOOLONG' },
    })
    expect((await rejection(readText(`${longest}a`, o))).message).toBe(
      'fs.readText path: expected a non-empty string of at most 4096 characters, got a string of 4097 characters',
    )
  })
})

describe('list', () => {
  it('lists a granted folder, sorted as JavaScript sorts strings', async () => {
    expect(await list(join(granted, 'unsorted'), o)).toEqual(['10', '9', 'B', 'C', 'a', 'b', 'é', '😀', 'Ａ'])
  })

  it('lists a folder a symlink inside the grant points to', async () => {
    writeFileSync(join(granted, 'sub', 'in-sub.txt'), '')
    expect(await list(join(granted, 'sub-link'), o)).toEqual(['in-sub.txt'])
  })

  it('refuses a linked folder outside the grant, and paths outside it', async () => {
    expect(await rejection(list(join(granted, 'escape-dir'), o))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'fs.read', value: join(granted, 'escape-dir'), reason: 'symlink' },
    })
    expect(await rejection(list(outside, o))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'fs.read', value: outside, reason: 'undeclared' },
    })
  })

  it('fails a file or a missing folder with its errno, and names the argument', async () => {
    expect(await rejection(list(join(granted, 'a.txt'), o))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: `fs ${join(granted, 'a.txt')}: ENOTDIR`,
      data: { errno: 'ENOTDIR' },
    })
    expect(await rejection(list(join(granted, 'nope'), o))).toMatchObject({ data: { errno: 'ENOENT' } })
    expect((await rejection(list('granted', o))).message).toBe(
      'fs.list path: expected an absolute path, got "granted"',
    )
  })
})

describe('writeText', () => {
  it('creates a file under the write grant, UTF-8, and replaces a longer one whole', async () => {
    const path = join(out, 'note.txt')
    expect(await writeText(path, 'a longer first text', roomy)).toBeUndefined()
    expect(readFileSync(path, 'utf8')).toBe('a longer first text')
    await writeText(path, 'héllo ✓', roomy)
    expect(readFileSync(path)).toEqual(Buffer.from('héllo ✓', 'utf8'))
    await writeText(path, '', roomy)
    expect(readFileSync(path, 'utf8')).toBe('')
  })

  it('writes text of up to fsReadBytes characters, and refuses one more', async () => {
    const path = join(out, 'limit.txt')
    await writeText(path, 'y'.repeat(LIMIT), o)
    expect(readFileSync(path, 'utf8')).toBe('y'.repeat(LIMIT))
    expect(await rejection(writeText(path, 'z'.repeat(LIMIT + 1), o))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: `fs.writeText text: expected a string of at most ${LIMIT} characters, got "${'z'.repeat(LIMIT + 1)}"`,
      data: undefined,
    })
    expect(readFileSync(path, 'utf8')).toBe('y'.repeat(LIMIT))
    expect((await rejection(writeText(path, 7, o))).message).toBe(
      `fs.writeText text: expected a string of at most ${LIMIT} characters, got number`,
    )
  })

  it('writes to the normalised path', async () => {
    await writeText(`${out}/no-such-folder/../normalised.txt`, 'n', o)
    expect(readFileSync(join(out, 'normalised.txt'), 'utf8')).toBe('n')
  })

  it('writes under a write grant that has no read grant', async () => {
    await writeText(join(writeOnly, 'w.txt'), 'written', o)
    expect(readFileSync(join(writeOnly, 'w.txt'), 'utf8')).toBe('written')
  })

  it('refuses paths outside the write grant, naming the file asked for', async () => {
    const readOnly = join(granted, 'a.txt')
    expect(await rejection(writeText(readOnly, 'x', o))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'fs.write', value: readOnly, reason: 'undeclared' },
    })
    // Normalised first: ".." cannot climb out of the write grant.
    expect(await rejection(writeText(`${out}/../a.txt`, 'x', o))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'fs.write', value: readOnly, reason: 'undeclared' },
    })
    // In a folder that does not exist outside the grant: refused, not ENOENT.
    const missing = join(outside, 'none', 'x.txt')
    expect(await rejection(writeText(missing, 'x', o))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'fs.write', value: missing },
    })
    expect(await rejection(writeText(join(declaredOnly, 'x.txt'), 'x', o))).toMatchObject({
      data: { permission: 'fs.write', reason: 'ungranted' },
    })
    expect(readFileSync(readOnly, 'utf8')).toBe('inside')
  })

  it('refuses a symlink planted at the target, even one pointing inside the grant', async () => {
    const planted = join(out, 'planted.txt')
    symlinkSync(join(outside, 'secret.txt'), planted)
    expect(await rejection(writeText(planted, 'x', o))).toEqual({
      code: C.PERMISSION_DENIED,
      message: `permission denied: fs ${JSON.stringify(planted)}: it is a symbolic link`,
      data: { permission: 'fs', value: planted, reason: 'symlink' },
    })
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('outside secret')
    writeFileSync(join(out, 'real.txt'), 'real')
    symlinkSync(join(out, 'real.txt'), join(out, 'inner.txt'))
    expect(await rejection(writeText(join(out, 'inner.txt'), 'x', o))).toMatchObject({
      data: { reason: 'symlink' },
    })
    expect(readFileSync(join(out, 'real.txt'), 'utf8')).toBe('real')
  })

  it('refuses a folder inside the write grant that links out of it', async () => {
    const dir = join(out, 'link-to-read-only')
    expect(await rejection(writeText(join(dir, 'x.txt'), 'x', o))).toEqual({
      code: C.PERMISSION_DENIED,
      message: `permission denied: fs.write ${JSON.stringify(dir)}: it resolves to ${join(granted, 'sub')}, outside the granted paths`,
      data: { permission: 'fs.write', value: dir, reason: 'symlink' },
    })
  })

  it('writes through a linked folder that stays inside the write grant, into the real folder', async () => {
    await writeText(join(out, 'link-to-write-only', 'via-link.txt'), 'via link', o)
    expect(readFileSync(join(writeOnly, 'via-link.txt'), 'utf8')).toBe('via link')
  })

  it('refuses a FIFO without waiting for a reader, and fails a folder or a missing folder with its errno', async () => {
    const fifo = join(out, 'fifo')
    expect(await rejection(writeText(fifo, 'x', o))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: `fs path: expected a regular file (it is a FIFO or device), got ${shown(fifo)}`,
      data: undefined,
    })
    expect(await rejection(writeText(join(out, 'folder'), 'x', o))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: `fs ${join(out, 'folder')}: EISDIR`,
      data: { errno: 'EISDIR' },
    })
    expect(await rejection(writeText(join(out, 'none', 'x.txt'), 'x', o))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: `fs ${join(out, 'none')}: ENOENT`,
      data: { errno: 'ENOENT' },
    })
  })

  it('refuses a device the open does not refuse', async () => {
    // A grant of /dev for writing, to reach /dev/null (opened, found not a file, left alone).
    const dev = createPermissionGuard(fsPermissions([], ['/dev']), fsPermissions([], ['/dev']))
    expect(await rejection(writeText('/dev/null', 'x', { ...o, guard: dev }))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: 'fs.writeText path: expected a regular file, got "/dev/null"',
      data: undefined,
    })
  })

  it('checks the path before the text', async () => {
    expect((await rejection(writeText('out/x.txt', 5, o))).message).toBe(
      'fs.writeText path: expected an absolute path, got "out/x.txt"',
    )
  })
})

describe('checkCwd and realPath', () => {
  it('returns the real folder of a cwd inside the read grant', async () => {
    expect(await checkCwd(out, o)).toBe(out)
    expect(await checkCwd(join(granted, 'sub-link'), o)).toBe(join(granted, 'sub'))
    expect(await checkCwd(`${granted}/sub/..`, o)).toBe(granted)
  })

  it('refuses a cwd outside the read grant, as written or through a link, naming the option', async () => {
    expect(await rejection(checkCwd(outside, o))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'fs.read', value: outside, reason: 'undeclared' },
    })
    expect(await rejection(checkCwd(join(granted, 'escape-dir'), o))).toMatchObject({
      data: { permission: 'fs.read', reason: 'symlink' },
    })
    expect(await rejection(checkCwd(writeOnly, o))).toMatchObject({
      data: { permission: 'fs.read', value: writeOnly, reason: 'undeclared' },
    })
    expect((await rejection(checkCwd('out', o))).message).toBe(
      'exec options.cwd: expected an absolute path, got "out"',
    )
  })

  it('checks the permission it is asked for, and names the argument', async () => {
    expect(await realPath('fs.write', 'fs.watch path', writeOnly, o)).toBe(writeOnly)
    expect(await rejection(realPath('fs.write', 'fs.watch path', granted, o))).toMatchObject({
      data: { permission: 'fs.write', value: granted },
    })
    expect(await realPath('fs.read', 'fs.watch path', join(granted, 'inner-link.txt'), o)).toBe(
      join(granted, 'a.txt'),
    )
    expect((await rejection(realPath('fs.read', 'fs.watch path', 'x', o))).message).toBe(
      'fs.watch path: expected an absolute path, got "x"',
    )
  })
})
