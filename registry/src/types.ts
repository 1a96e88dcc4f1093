import type { Permissions, PluginKind } from '@stavily/sdk/manifest'
import type { GitCredential } from './git/credentials.ts'
import type { SqlClient } from './storage/sql-client.ts'

// The registry's public data shapes (what the programmatic API and the HTTP routes return).

/** Where a version was built from, and by what. */
export interface Provenance {
  /** The Git URL it was cloned from (never carries credentials). */
  repository: string
  /** The tag, branch or commit that was asked for. */
  ref: string
  /** The commit that was built. */
  commit: string
  /** Sub-folder of the repository holding the plugin ('' for the root). */
  path: string
  /** Registry and esbuild versions that built it. */
  builder: string
  /** When it was built (ISO 8601). */
  builtAt: string
}

export interface PluginVersion {
  name: string
  version: string
  kind: PluginKind
  /** `sha256:<hex>` of the bundle. */
  digest: string
  /** Bundle size in bytes. */
  size: number
  /** The SDK API range the plugin was written for. */
  sdk: string
  permissions: Permissions
  provenance: Provenance
  publishedAt: string
  yanked: boolean
  yankedAt?: string
  yankReason?: string
}

export interface PluginSummary {
  name: string
  kind: PluginKind
  description: string
  repository: string
  /** Highest non-yanked stable version; null when there is none. */
  latest: string | null
  updatedAt: string
}

export type PublishStep = 'clone' | 'manifest' | 'install' | 'build' | 'sign'

export interface PublishProgress {
  step: PublishStep
  message: string
}

export interface PublishResult {
  /** `unchanged`: this exact bundle was already published under this version (a no-op). */
  status: 'published' | 'unchanged'
  version: PluginVersion
  /** Milliseconds per step; `installMs` is 0 when nothing needed installing. */
  timings: { cloneMs: number; installMs: number; buildMs: number; signMs: number; totalMs: number }
}

/** What the signed TUF target entry of a version carries in its `custom` field. */
export interface TargetCustom {
  name: string
  version: string
  kind: PluginKind
  digest: string
  size: number
  sdk: string
  permissions: Permissions
  repository: string
  ref: string
  commit: string
  path: string
  builder: string
  builtAt: string
  yanked: boolean
}

/**
 * Who publishes, as the host (the orchestrator) knows it: the registry itself has no
 * organizations, so the host passes the publisher's Git credentials and its name ownership.
 */
export interface Publisher {
  /** Credentials for this publish only; they replace the registry's configured ones. */
  credentials?: readonly GitCredential[]
  /** Name ownership: `check` before the build, `claim` inside the storing transaction; both throw to refuse. */
  names?: {
    check(name: string, sql: SqlClient): Promise<void>
    claim(name: string, tx: SqlClient): Promise<void>
  }
}
