import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import type { Metafile } from 'esbuild'

// esbuild names each module by its path relative to the working directory (in `// path`
// comments and CommonJS wrapper keys). For a package's files that path depends on where the
// package was installed: `node_modules/@stavily/sdk/dist/index.js` in a plugin's own
// folder, `../../stavily/sdk/dist/index.js` when the registry provides its copy. Each is
// renamed `package@version/path-in-package`, so a local build and the registry's build of
// the same commit, with the same package versions, are the same bytes.

/** Whether an input path (relative to the working directory) names a package's file rather than the plugin's own. */
function isPackageInput(path: string): boolean {
  return path.startsWith('../') || path.startsWith('node_modules/') || path.includes('/node_modules/')
}

/**
 * `text` with every package input's path replaced by its `package@version/path` name.
 *
 * @example
 * ```ts
 * canonicalizePackagePaths(code, metafile, root) // "// node_modules/typebox/build/index.mjs" → "// typebox@1.4.3/build/index.mjs"
 * ```
 */
export function canonicalizePackagePaths(text: string, metafile: Metafile, root: string): string {
  const cache = new Map<string, string | undefined>()
  const names = new Map<string, string>()
  for (const p of Object.keys(metafile.inputs))
    if (isPackageInput(p) && !p.includes(':')) names.set(p, stableName(resolve(root, p), cache))
  if (names.size === 0) return text
  // One pass: each token that looks like such a path and is an input is replaced; anything
  // else (a "../" in a string literal) is left alone. Longest paths first in the alternation
  // is not needed: tokens end at whitespace, quotes or brackets.
  return text.replace(
    /(?:\.\.\/)*[^\s"'`()]*node_modules\/[^\s"'`()]+|(?:\.\.\/)+[^\s"'`()]+/g,
    (m) => names.get(m) ?? m,
  )
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
