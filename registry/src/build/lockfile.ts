import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RegistryError } from '../errors.ts'

// npm ci installs whatever the lockfile names: a git repository (whose prepare script npm
// runs even with --ignore-scripts when it packs it), a file: or link: path (a host folder,
// read into the bundle), or a tarball URL on any host (a request from inside the
// orchestrator's network). So before npm runs, every entry must be a package from the
// configured npm registry: no `link`, and a `resolved` that is absent (npm's
// omit-lockfile-registry-resolved) or a tarball on that registry. Every offender is listed.

interface LockEntry {
  version?: unknown
  resolved?: unknown
  link?: unknown
}

export async function checkLockfile(dir: string, npmRegistry: string): Promise<void> {
  let file = 'package-lock.json'
  let text: string
  try {
    text = await readFile(join(dir, file), 'utf8')
  } catch {
    file = 'npm-shrinkwrap.json'
    text = await readFile(join(dir, file), 'utf8')
  }
  let lock: { packages?: Record<string, LockEntry>; lockfileVersion?: unknown }
  try {
    lock = JSON.parse(text) as typeof lock
  } catch (err) {
    throw invalidLock(file, `${file}: not valid JSON (${(err as Error).message})`, [])
  }
  if (!lock.packages || typeof lock.packages !== 'object')
    throw invalidLock(
      file,
      `${file}: lockfileVersion ${String(lock.lockfileVersion)} has no "packages"; regenerate it with npm 7 or later`,
      [],
    )
  const origin = new URL(npmRegistry).origin
  const bad: string[] = []
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || !entry || typeof entry !== 'object') continue
    const why = problem(entry, origin)
    if (why) bad.push(`  ${path}: ${why}`)
  }
  if (bad.length > 0)
    throw invalidLock(
      file,
      `${file}: the registry installs only packages from ${origin}; ` +
        `publish these dependencies to an npm registry (or bundle their code in the repository):\n${bad.join('\n')}`,
      bad.map((b) => b.trim().split(':')[0]!),
    )
}

function problem(entry: LockEntry, origin: string): string | undefined {
  if (entry.link === true) return `a link to ${String(entry.resolved)}`
  if (typeof entry.version === 'string' && /^(file|link|git|git\+\w+|github|https?):/.test(entry.version))
    return `version "${entry.version}" is not a registry version`
  if (entry.resolved === undefined) return undefined
  if (typeof entry.resolved !== 'string') return 'resolved is not a URL'
  let url: URL
  try {
    url = new URL(entry.resolved)
  } catch {
    return `resolved "${entry.resolved}" is not a registry tarball`
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== origin)
    return `resolved "${entry.resolved}" is not a tarball on ${origin}`
  return undefined
}

function invalidLock(file: string, message: string, packages: string[]): RegistryError {
  return new RegistryError('STAVILY_ERR_REGISTRY_LOCKFILE_INVALID', message, {
    data: { field: file, ...(packages.length > 0 ? { packages } : {}) },
  })
}
