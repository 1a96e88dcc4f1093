import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import type { Metafile } from 'esbuild'
import type { ForbiddenImport } from './import-guard.ts'

// What the metafile tells after a build: which inputs came from outside the checkout, whether
// plugin code reached them legitimately (through a provided package) and how to name them
// so the bundle does not depend on where the registry's files live.

/**
 * Plugin files (inside the checkout) importing a file outside it, other than a provided
 * package's entry: a symlink out of the repository, or a relative path climbing out of it.
 * Host files (provided packages and their dependencies) may import anything.
 */
export function importsOutsideCheckout(
  metafile: Metafile,
  root: string,
  providedFiles: ReadonlySet<string>,
): ForbiddenImport[] {
  const outside = (p: string) => p.startsWith('../') || p === '..'
  const found: ForbiddenImport[] = []
  for (const [path, input] of Object.entries(metafile.inputs)) {
    if (outside(path)) continue
    for (const imp of input.imports) {
      if (imp.external || !outside(imp.path)) continue
      if (providedFiles.has(resolve(root, imp.path))) continue
      found.push({ specifier: imp.original ?? imp.path, importer: path, reason: 'outside-checkout' })
    }
  }
  return found
}

/**
 * esbuild names each module by its path relative to the working directory (in `// path`
 * comments and CommonJS wrapper keys). For files outside the checkout that path depends on
 * the host's layout, so it is replaced by `package@version/path-in-package`: the same commit
 * gives the same bytes on every registry host.
 */
export function canonicalizeOutsidePaths(text: string, metafile: Metafile, root: string): string {
  const cache = new Map<string, string | undefined>()
  const names = new Map<string, string>()
  for (const p of Object.keys(metafile.inputs))
    if (p.startsWith('../')) names.set(p, stableName(resolve(root, p), cache))
  if (names.size === 0) return text
  // One pass over the text: every token that looks like a climbing relative path and is an
  // outside input is replaced; anything else (a "../" in a string literal) is left alone.
  return text.replace(/(?:\.\.\/)+[^\s"'`()]+/g, (m) => names.get(m) ?? m)
}

function stableName(file: string, cache: Map<string, string | undefined>): string {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pkg = packageId(dir, cache)
    if (pkg) return `${pkg}/${relative(dir, file).split(sep).join('/')}`
    if (dirname(dir) === dir) return `external/${file.split(sep).slice(-2).join('/')}`
  }
}

function packageId(dir: string, cache: Map<string, string | undefined>): string | undefined {
  if (cache.has(dir)) return cache.get(dir)
  let id: string | undefined
  const file = join(dir, 'package.json')
  if (existsSync(file)) {
    try {
      const { name, version } = JSON.parse(readFileSync(file, 'utf8')) as {
        name?: unknown
        version?: unknown
      }
      if (typeof name === 'string' && name !== '')
        id = `${name}@${typeof version === 'string' ? version : '0.0.0'}`
    } catch {
      // Not a readable manifest (a fixture, a template): keep walking up.
    }
  }
  cache.set(dir, id)
  return id
}
