import { lstat, readdir, readlink, realpath } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { RegistryError } from '../errors.ts'

// A repository may commit symlinks. One that points outside the checkout would let a
// publisher bundle (or have the manifest reader, npm or esbuild read) a host file: a cloud
// credential, the CLI's login file, an agent credential. So right after the clone every
// symlink of the checkout is resolved, and any that leaves it fails the publish, naming
// every such file. Links inside the repository (a shared src folder) stay allowed.

/** True when `path` is `root` or below it (both real, absolute paths). */
export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root + sep)
}

/** Refuses the checkout if any symlink in it (outside .git) resolves outside `checkoutRoot`. */
export async function refuseEscapingSymlinks(checkoutRoot: string): Promise<void> {
  const root = await realpath(checkoutRoot)
  const escaping: { file: string; target: string }[] = []
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (dir === root && entry.name === '.git') continue
      if (entry.isSymbolicLink()) {
        const target = await readlink(path)
        if (!isInside(root, await resolveLink(path, target)))
          escaping.push({ file: relative(root, path), target })
      } else if (entry.isDirectory()) await walk(path)
    }
  }
  await walk(root)
  if (escaping.length > 0) throw symlinkOutside(escaping)
}

/** Where a link leads: its real path, or (dangling) the lexical target, so neither hides an escape. */
async function resolveLink(path: string, target: string): Promise<string> {
  const lexical = resolve(dirname(path), target)
  try {
    return await realpath(path)
  } catch {
    // A dangling link: judged by where it points (and by where its parent really is).
    try {
      return join(await realpath(dirname(lexical)), lexical.slice(dirname(lexical).length + 1))
    } catch {
      return lexical
    }
  }
}

export function symlinkOutside(files: readonly { file: string; target: string }[]): RegistryError {
  const list = files.map((f) => `  ${f.file} -> ${f.target}`).join('\n')
  return new RegistryError(
    'STAVILY_ERR_REGISTRY_SYMLINK_OUTSIDE',
    `the repository has ${files.length === 1 ? 'a symlink' : `${files.length} symlinks`} leading outside it; ` +
      `commit the file itself instead of a link to it:\n${list}`,
    { data: { files: files.map((f) => f.file) } },
  )
}

/** Checks that a file esbuild read (or is about to read) really lives in the checkout. */
export async function assertInsideCheckout(root: string, file: string): Promise<void> {
  let real: string
  try {
    real = await realpath(file)
  } catch {
    return // esbuild reports missing files itself
  }
  if (!isInside(root, real)) {
    const s = await lstat(file).catch(() => undefined)
    throw symlinkOutside([
      { file: relative(root, file), target: s?.isSymbolicLink() ? await readlink(file) : real },
    ])
  }
}
