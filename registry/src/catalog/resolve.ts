import semver from 'semver'
import { RegistryError } from '../errors.ts'
import type { PluginVersion } from '../types.ts'

/**
 * The highest version satisfying `range`. Yanked versions are skipped (they stay
 * downloadable by exact version); prereleases count only when asked for.
 */
export function resolveRange(
  name: string,
  versions: readonly PluginVersion[],
  range: string,
  opts: { prerelease?: boolean } = {},
): PluginVersion {
  const candidates = versions.filter((v) => !v.yanked)
  const best = semver.maxSatisfying(
    candidates.map((v) => v.version),
    range,
    { includePrerelease: opts.prerelease === true },
  )
  if (best !== null) return candidates.find((v) => v.version === best)!
  const yanked = versions.filter(
    (v) => v.yanked && semver.satisfies(v.version, range, { includePrerelease: opts.prerelease === true }),
  )
  const hint =
    yanked.length > 0
      ? `; ${yanked.map((v) => v.version).join(', ')} ${yanked.length === 1 ? 'is' : 'are'} yanked (still downloadable by exact version)`
      : versions.length > 0
        ? `; published versions: ${versions
            .map((v) => v.version)
            .slice(0, 10)
            .join(', ')}`
        : ''
  throw new RegistryError(
    'STAVILY_ERR_REGISTRY_NO_MATCHING_VERSION',
    `range: no version of ${name} satisfies "${range}"${hint}`,
    {
      data: { field: 'range', name, range },
    },
  )
}
