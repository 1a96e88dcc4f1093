// Path rules for `permissions.fs` and for the paths a plugin asks to read or write. POSIX
// only: agents run on Linux; a path is absolute and compared after normalisation.

/**
 * Normalises an absolute POSIX path: collapses `//`, resolves `.` and `..` (never above
 * `/`), drops a trailing slash. Returns `undefined` for a relative path or one with a NUL.
 *
 * @example
 * ```ts
 * import { normalizeAbsolutePath } from '@stavily/sdk/manifest'
 * normalizeAbsolutePath('/var/log/../lib//app/') // '/var/lib/app'
 * ```
 */
export function normalizeAbsolutePath(path: string): string | undefined {
  if (!path.startsWith('/') || path.includes('\0')) return undefined
  const out: string[] = []
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') out.pop()
    else out.push(segment)
  }
  return `/${out.join('/')}`
}

/**
 * Whether normalised `path` is `prefix` or lies under it, by whole segments: `/var/log`
 * covers `/var/log/syslog` but not `/var/logs`. Both must already be normalised.
 *
 * @example
 * ```ts
 * import { isPathUnder } from '@stavily/sdk/manifest'
 * isPathUnder('/var/log', '/var/log/app/x.log') // true
 * isPathUnder('/var/log', '/var/logs') // false
 * ```
 */
export function isPathUnder(prefix: string, path: string): boolean {
  if (prefix === '/') return path.startsWith('/')
  return path === prefix || path.startsWith(`${prefix}/`)
}
