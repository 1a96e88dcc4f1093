import { resolve } from 'node:path'
import type { Metafile } from 'esbuild'
import type { ForbiddenImport } from './import-guard.ts'

// What the metafile tells after a build: which inputs came from outside the checkout, and
// whether plugin code reached them legitimately (through a provided package). Naming them
// so the bundle does not depend on where files live is the SDK build's job
// (@stavily/sdk/build, canonical-paths.ts).

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
