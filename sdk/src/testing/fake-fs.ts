import type { Fs } from '../context.ts'
import { ErrorCodes, PluginError } from '../errors.ts'
import { isPathUnder, normalizeAbsolutePath } from '../manifest/fs-path.ts'
import type { PermissionGuard } from '../manifest/permission-guard.ts'
import { invalid, string } from './args.ts'
import type { Calls } from './recorder.ts'

/**
 * An in-memory file tree behind `ctx.fs`. Paths go through the same guard as on an agent;
 * a missing file fails with the sandbox's `STAVILY_ERR_SANDBOX_CAPABILITY_FAILED` and
 * `data.errno: 'ENOENT'`. Unlike an agent, writing creates missing parent folders.
 */
export function fakeFs(guard: PermissionGuard, initial: Record<string, string> | undefined, calls: Calls) {
  const files = new Map<string, string>()
  const dirs = new Set<string>(['/'])
  const addParents = (path: string) => {
    for (let dir = parentOf(path); dir !== undefined; dir = parentOf(dir)) dirs.add(dir)
  }
  for (const [key, text] of Object.entries(initial ?? {})) {
    const path = normalizeAbsolutePath(key)
    if (path === undefined) throw invalid(`harness files["${key}"]`, 'an absolute path', key)
    if (key.endsWith('/')) {
      dirs.add(path)
      addParents(path)
      continue
    }
    if (typeof text !== 'string') throw invalid(`harness files["${key}"]`, 'the file text (a string)', text)
    files.set(path, text)
    addParents(path)
  }

  const fs: Fs = {
    async readText(path) {
      const checked = guard.fsRead(string('fs.readText path', path))
      calls.fs.push({ op: 'readText', path: checked })
      const text = files.get(checked)
      if (text === undefined) throw notFound('fs.readText', checked, dirs.has(checked) ? 'EISDIR' : 'ENOENT')
      return text
    },
    async list(path) {
      const checked = guard.fsRead(string('fs.list path', path))
      calls.fs.push({ op: 'list', path: checked })
      if (!dirs.has(checked)) throw notFound('fs.list', checked, files.has(checked) ? 'ENOTDIR' : 'ENOENT')
      const names = new Set<string>()
      for (const entry of [...files.keys(), ...dirs]) {
        if (entry !== checked && isPathUnder(checked, entry)) {
          names.add(entry.slice(checked === '/' ? 1 : checked.length + 1).split('/')[0]!)
        }
      }
      return [...names].sort()
    },
    async writeText(path, text) {
      const checked = guard.fsWrite(string('fs.writeText path', path))
      const content = string('fs.writeText text', text, { empty: true })
      if (dirs.has(checked)) throw notFound('fs.writeText', checked, 'EISDIR')
      calls.fs.push({ op: 'writeText', path: checked, text: content })
      files.set(checked, content)
      addParents(checked)
    },
  }
  return { fs, snapshot: () => Object.fromEntries([...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) }
}

function parentOf(path: string): string | undefined {
  if (path === '/') return undefined
  const index = path.lastIndexOf('/')
  return index <= 0 ? '/' : path.slice(0, index)
}

function notFound(operation: string, path: string, errno: string): PluginError {
  return new PluginError(ErrorCodes.CAPABILITY_FAILED, `${operation} ${path}: ${errno}`, { data: { errno } })
}
