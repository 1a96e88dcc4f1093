import semver from 'semver'

/** Highest version that is neither yanked nor a prerelease (what listings show as latest). */
export function latestStable(versions: readonly { version: string; yanked: boolean }[]): string | null {
  const stable = versions
    .filter((v) => !v.yanked && semver.prerelease(v.version) === null)
    .map((v) => v.version)
  return semver.rsort(stable)[0] ?? null
}

/** Newest first, by semver precedence. */
export function sortVersions<T extends { version: string }>(versions: readonly T[]): T[] {
  return [...versions].sort((a, b) => semver.rcompare(a.version, b.version))
}
