// ctx.fs.watch on the host (sensors): change notifications for a file or folder the plugin
// may read (fs.read, checked before and after resolving symlinks, as for readText). Node's
// fs.watch reports "rename" and "change"; a rename is told apart by looking: the path exists
// now (created) or not (deleted). Recursive where the platform allows it (Linux with Node
// 20+, macOS, Windows). Every reported path is checked against fs.read again, so a grant of
// one file in a watched folder does not leak its neighbours' names.
import { type FSWatcher, watch } from 'node:fs'
import { lstat } from 'node:fs/promises'
import { posix } from 'node:path'
import { SandboxErrorCodes, sandboxError } from '../../../errors.ts'
import { bad, plainObject } from './args.ts'
import { type FsOptions, realPath } from './fs.ts'
import type { Stream } from './subscriptions.ts'

export interface FsChange {
  type: 'created' | 'modified' | 'deleted'
  path: string
}

export async function hostFsWatch(
  pathArg: unknown,
  optionsArg: unknown,
  o: FsOptions,
  stream: Stream<FsChange>,
): Promise<() => void> {
  const options = plainObject('fs.watch options', optionsArg) ?? {}
  if (options.recursive !== undefined && options.recursive !== null && typeof options.recursive !== 'boolean')
    throw bad('fs.watch options.recursive', 'true or false', options.recursive)
  const recursive = options.recursive === true
  const path = await realPath('fs.read', 'fs.watch path', pathArg, o)
  const info = await lstat(path)
  const base = info.isDirectory() ? path : posix.dirname(path)
  const allowed = (p: string) => {
    try {
      o.guard.fsRead(p)
      return true
    } catch {
      return false
    }
  }
  let watcher: FSWatcher
  try {
    watcher = watch(path, { recursive: recursive && info.isDirectory(), persistent: false, encoding: 'utf8' })
  } catch (err) {
    throw sandboxError(
      SandboxErrorCodes.CAPABILITY_FAILED,
      `fs.watch ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    )
  }
  // In order: a rename is classified by an lstat, which must not let a later change pass it.
  let chain: Promise<void> = Promise.resolve()
  watcher.on('change', (event, filename) => {
    const changed = filename ? posix.join(base, String(filename)) : path
    if (!allowed(changed)) return
    chain = chain.then(async () => {
      if (event === 'change') return stream.push({ type: 'modified', path: changed })
      const exists = await lstat(changed).then(
        () => true,
        () => false,
      )
      stream.push({ type: exists ? 'created' : 'deleted', path: changed })
    })
  })
  watcher.on('error', (err) => {
    stream.fail(
      sandboxError(
        SandboxErrorCodes.CAPABILITY_FAILED,
        `fs.watch ${path}: ${(err as NodeJS.ErrnoException).code ?? err.message}; watch again`,
        {
          retryable: true,
        },
      ),
    )
  })
  return () => watcher.close()
}
