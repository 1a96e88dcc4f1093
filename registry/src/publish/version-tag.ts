import semver from 'semver'
import { RegistryError } from '../errors.ts'

// A release tag names the version it releases: `1.2.0`, `v1.2.0`, or in a monorepo
// `name@1.2.0` / `plugins/restart/v1.2.0`. Publishing a tag requires that version to be
// exactly the manifest's, so a tag never publishes something else than it says.

export function versionFromTag(tag: string): string | undefined {
  const cut = Math.max(tag.lastIndexOf('@'), tag.lastIndexOf('/'))
  const tail = tag.slice(cut + 1).replace(/^v/, '')
  return semver.valid(tail) === tail ? tail : undefined
}

export function checkTagMatches(tag: string, manifestVersion: string): void {
  const fromTag = versionFromTag(tag)
  if (fromTag === undefined)
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_VERSION_MISMATCH',
      `ref: the tag "${tag}" does not name a version; tag releases v${manifestVersion} (or name@${manifestVersion} in a monorepo), or publish a branch or commit`,
      { data: { field: 'ref', tag, version: manifestVersion } },
    )
  if (fromTag !== manifestVersion)
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_VERSION_MISMATCH',
      `version: the tag "${tag}" releases ${fromTag} but package.json says ${manifestVersion}; set "version" to ${fromTag} in package.json and tag again, or tag the commit v${manifestVersion}`,
      { data: { field: 'version', tag, tagVersion: fromTag, version: manifestVersion } },
    )
}
