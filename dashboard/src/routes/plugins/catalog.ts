// The plugin routes' answers (GET /api/v1/plugins and the registry's versions), as the
// plugin pages read them.

import type { Permissions } from './permissions.ts'

export interface EnabledIn {
  pool: string
  version: string
  range: string | null
}

export interface CatalogEntry {
  name: string
  kind: string
  description: string
  repository: string
  latest: string | null
  updatedAt: string
  enabled: EnabledIn[]
}

export interface PoolPlugin {
  name: string
  pool: string
  range: string | null
  version: string
  digest: string
  updatedAt: string
}

export interface Catalog {
  items: CatalogEntry[]
  nextCursor: string | null
  enabled: PoolPlugin[]
}

export interface PluginVersion {
  name: string
  version: string
  kind: string
  digest: string
  size: number
  sdk: string
  permissions: Permissions
  provenance: {
    repository: string
    ref: string
    commit: string
    path: string
    builder: string
    builtAt: string
  }
  publishedAt: string
  yanked: boolean
  yankedAt?: string
  yankReason?: string
}

/** The registry path of a plugin (scoped names hold a "/", sent escaped). */
export function registryPath(name: string): string {
  return `/registry/plugins/${encodeURIComponent(name)}`
}

/** "pinned" when the range is one exact version (it never moves), else the range it follows. */
export function rangeLabel(range: string | null, version: string): string {
  if (range === null) return 'no range kept'
  return range === version ? 'pinned' : `follows ${range}`
}

/** `sha256:abcdef…` shortened for a table; the whole digest stays in the title. */
export function shortDigest(digest: string): string {
  const [algo, hex] = digest.includes(':') ? digest.split(':', 2) : ['', digest]
  return `${algo ? `${algo}:` : ''}${(hex ?? '').slice(0, 12)}…`
}
