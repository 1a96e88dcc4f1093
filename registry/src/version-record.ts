import type { Permissions, PluginKind } from '@stavily/sdk/manifest'
import type { PluginRow } from './storage/plans/plugins.ts'
import type { VersionRow } from './storage/plans/versions.ts'
import type { PluginSummary, PluginVersion, TargetCustom } from './types.ts'

// Rows to public shapes, and a version to the `custom` field of its signed TUF target.

const iso = (d: Date | string) => new Date(d).toISOString()

export function toPluginVersion(r: VersionRow): PluginVersion {
  return {
    name: r.name,
    version: r.version,
    kind: r.kind as PluginKind,
    digest: r.digest,
    size: r.size,
    sdk: r.sdkRange,
    permissions: r.permissions as Permissions,
    provenance: {
      repository: r.repository,
      ref: r.ref,
      commit: r.commit,
      path: r.path,
      builder: r.builderVersion,
      builtAt: iso(r.builtAt),
    },
    publishedAt: iso(r.publishedAt),
    yanked: r.yankedAt !== null,
    ...(r.yankedAt !== null ? { yankedAt: iso(r.yankedAt), yankReason: r.yankReason ?? '' } : {}),
  }
}

export function toPluginSummary(r: PluginRow): PluginSummary {
  return {
    name: r.name,
    kind: r.kind as PluginKind,
    description: r.description,
    repository: r.repository,
    latest: r.latest,
    updatedAt: iso(r.updatedAt),
  }
}

export function targetCustom(v: PluginVersion): TargetCustom {
  return {
    name: v.name,
    version: v.version,
    kind: v.kind,
    digest: v.digest,
    size: v.size,
    sdk: v.sdk,
    permissions: v.permissions,
    repository: v.provenance.repository,
    ref: v.provenance.ref,
    commit: v.provenance.commit,
    path: v.provenance.path,
    builder: v.provenance.builder,
    builtAt: v.provenance.builtAt,
    yanked: v.yanked,
  }
}
