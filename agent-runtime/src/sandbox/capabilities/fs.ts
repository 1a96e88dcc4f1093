// ctx.fs on the host: absolute paths under prefixes the manifest declares AND the operator
// grants, checked twice: as written (normalised, so ".." cannot climb out) and after
// realpath (so a symlink inside a granted folder cannot point out of it). Sensors read only.
import { constants } from 'node:fs'
import { open, readdir, realpath } from 'node:fs/promises'
import { posix } from 'node:path'
import type { PermissionGuard } from '@stavily/sdk/manifest'
import type { PluginLimits } from '../../defaults.ts'
import { SandboxErrorCodes, sandboxError } from '../../errors.ts'
import { bad, str } from './args.ts'
import { denied } from './denied.ts'

const MAX_PATH = 4096

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

export async function readText(pathArg: unknown, o: FsOptions): Promise<string> {
  const path = await real('fs.read', checkedPath('fs.readText path', pathArg), o)
  let handle: Awaited<ReturnType<typeof open>> | undefined
  try {
    // O_NOFOLLOW: the last component cannot have become a symlink since realpath.
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
    const info = await handle.stat()
    if (!info.isFile()) throw bad('fs.readText path', 'a regular file', path)
    const buffer = Buffer.alloc(Math.min(info.size, o.limits.fsReadBytes) + 1)
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
    if (bytesRead > o.limits.fsReadBytes) {
      throw sandboxError(
        SandboxErrorCodes.CAPABILITY_FAILED,
        `fs.readText ${path}: larger than the limit of ${o.limits.fsReadBytes} bytes`,
      )
    }
    return buffer.subarray(0, bytesRead).toString('utf8')
  } catch (err) {
    throw fsError(path, err)
  } finally {
    await handle?.close()
  }
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
    handle = await open(
      target,
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
      0o644,
    )
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
    return sandboxError(SandboxErrorCodes.CAPABILITY_FAILED, `fs ${path}: ${code}`, { data: { errno: code } })
  }
  return sandboxError(SandboxErrorCodes.CAPABILITY_FAILED, `fs ${path}: ${String(err)}`)
}
