// ctx.fs on the host: absolute paths under prefixes the manifest declares AND the operator
// grants, checked twice: as written (normalised, so ".." cannot climb out) and after
// realpath (so a symlink inside a granted folder cannot point out of it). Sensors read only.
import { constants } from 'node:fs'
import { type FileHandle, lstat, open, readdir, realpath } from 'node:fs/promises'
import { posix } from 'node:path'
import type { PermissionGuard } from '@stavily/sdk/manifest'
import type { PluginLimits } from '../../../defaults.ts'
import { SandboxErrorCodes, sandboxError } from '../../../errors.ts'
import { bad, str } from './args.ts'
import { denied } from './denied.ts'

const MAX_PATH = 4096
/** Read size for files whose length stat cannot tell (/proc): a page multiple, small enough to allocate often. */
const READ_CHUNK_BYTES = 64 * 1024

export interface FsOptions {
  guard: PermissionGuard
  limits: PluginLimits
}

function checkedPath(where: string, value: unknown): string {
  const path = str(where, value, MAX_PATH)
  if (!path.startsWith('/')) throw bad(where, 'an absolute path', path)
  return posix.resolve(path)
}

/** Resolves symlinks and checks the real path against the same permission. */
async function real(permission: 'fs.read' | 'fs.write', path: string, o: FsOptions): Promise<string> {
  const check = (p: string) => (permission === 'fs.read' ? o.guard.fsRead(p) : o.guard.fsWrite(p))
  check(path)
  let resolved: string
  try {
    resolved = await realpath(path)
  } catch (err) {
    throw fsError(path, err)
  }
  if (resolved !== path) {
    try {
      check(resolved)
    } catch {
      throw denied(permission, path, 'symlink', `it resolves to ${resolved}, outside the granted paths`)
    }
  }
  return resolved
}

/** A path argument checked as written and after resolving symlinks (fs.watch uses it too). */
export async function realPath(
  permission: 'fs.read' | 'fs.write',
  where: string,
  pathArg: unknown,
  o: FsOptions,
): Promise<string> {
  return real(permission, checkedPath(where, pathArg), o)
}

export async function readText(pathArg: unknown, o: FsOptions): Promise<string> {
  const path = await real('fs.read', checkedPath('fs.readText path', pathArg), o)
  // Checked before opening: opening a FIFO for reading waits for a writer, holding one of
  // libuv's four thread-pool threads (shared by every plugin's fs and DNS) for as long.
  await requireRegularFile('fs.readText path', path)
  let handle: Awaited<ReturnType<typeof open>> | undefined
  try {
    // O_NOFOLLOW: the last component cannot have become a symlink since realpath.
    // O_NONBLOCK: should it have become a FIFO since the check, the open returns at once
    // and the fstat below refuses it; on a regular file the flag changes nothing.
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    if (!(await handle.stat()).isFile()) throw bad('fs.readText path', 'a regular file', path)
    return (await readToEnd(handle, path, o.limits.fsReadBytes)).toString('utf8')
  } catch (err) {
    throw fsError(path, err)
  } finally {
    await handle?.close()
  }
}

/**
 * Reads until end of file, not to the size stat reported: /proc and /sys files report 0 (or
 * a page) and are produced as they are read. Refuses anything over `limit` bytes.
 */
async function readToEnd(handle: FileHandle, path: string, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  for (;;) {
    // One byte over the limit tells "exactly the limit" from "larger".
    const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, limit + 1 - total))
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null)
    if (bytesRead === 0) break
    chunks.push(chunk.subarray(0, bytesRead))
    total += bytesRead
    if (total > limit) {
      throw sandboxError(
        SandboxErrorCodes.CAPABILITY_FAILED,
        `fs.readText ${path}: larger than the limit of ${limit} bytes`,
      )
    }
  }
  return Buffer.concat(chunks, total)
}

/** Refuses FIFOs, sockets, devices and folders by what the path is now, before any open. */
async function requireRegularFile(where: string, path: string): Promise<void> {
  let info: Awaited<ReturnType<typeof lstat>>
  try {
    info = await lstat(path)
  } catch (err) {
    throw fsError(path, err)
  }
  if (!info.isFile()) throw bad(where, `a regular file (it is ${kindOf(info)})`, path)
}

function kindOf(info: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (info.isDirectory()) return 'a folder'
  if (info.isFIFO()) return 'a FIFO'
  if (info.isSocket()) return 'a socket'
  return 'a device or other special file'
}

export async function list(pathArg: unknown, o: FsOptions): Promise<string[]> {
  const path = await real('fs.read', checkedPath('fs.list path', pathArg), o)
  try {
    return (await readdir(path)).sort()
  } catch (err) {
    throw fsError(path, err)
  }
}

export async function writeText(pathArg: unknown, textArg: unknown, o: FsOptions): Promise<void> {
  const path = checkedPath('fs.writeText path', pathArg)
  const text = str('fs.writeText text', textArg, o.limits.fsReadBytes, { empty: true })
  o.guard.fsWrite(path)
  // The folder must really be inside the grant; the file itself is opened without following
  // a symlink, so a link planted at the target cannot redirect the write.
  const dir = await real('fs.write', posix.dirname(path), o)
  const target = posix.join(dir, posix.basename(path))
  let handle: Awaited<ReturnType<typeof open>> | undefined
  try {
    // O_NONBLOCK: opening an existing FIFO for writing would wait for a reader (holding a
    // thread-pool thread); non-blocking it fails or returns at once and the fstat refuses it.
    handle = await open(
      target,
      constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      0o644,
    )
    if (!(await handle.stat()).isFile()) throw bad('fs.writeText path', 'a regular file', path)
    // Truncated only once it is known to be a regular file.
    await handle.truncate(0)
    await handle.writeFile(text, 'utf8')
  } catch (err) {
    throw fsError(path, err)
  } finally {
    await handle?.close()
  }
}

/** The cwd of an exec: a folder the plugin may read. */
export async function checkCwd(path: string, o: FsOptions): Promise<string> {
  return real('fs.read', checkedPath('exec options.cwd', path), o)
}

function fsError(path: string, err: unknown): Error {
  if (err && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'string') {
    const code = (err as { code: string }).code
    if (code.startsWith('STAVILY_ERR_')) return err as Error
    if (code === 'ELOOP') return denied('fs', path, 'symlink', 'it is a symbolic link')
    // A non-blocking open of a FIFO for writing, with no reader.
    if (code === 'ENXIO') return bad('fs path', 'a regular file (it is a FIFO or device)', path)
    return sandboxError(SandboxErrorCodes.CAPABILITY_FAILED, `fs ${path}: ${code}`, { data: { errno: code } })
  }
  return sandboxError(SandboxErrorCodes.CAPABILITY_FAILED, `fs ${path}: ${String(err)}`)
}
