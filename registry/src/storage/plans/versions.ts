import type { Statement } from '../sql-client.ts'

// SQL for plugin versions (immutable once inserted, except the yank columns).

/** What a publish records; a stored row adds the timestamps and the yank columns. */
interface VersionFields {
  name: string
  version: string
  kind: string
  digest: string
  size: number
  sdkRange: string
  permissions: unknown
  manifest: unknown
  repository: string
  ref: string
  commit: string
  path: string
  builderVersion: string
}

export interface VersionRow extends VersionFields, Record<string, unknown> {
  builtAt: Date | string
  publishedAt: Date | string
  yankedAt: Date | string | null
  yankReason: string | null
}

const columns = `name, version, kind, digest, size, sdk_range AS "sdkRange", permissions, manifest,
  repository, ref, commit, path, builder_version AS "builderVersion", built_at AS "builtAt",
  published_at AS "publishedAt", yanked_at AS "yankedAt", yank_reason AS "yankReason"`

export interface NewVersion extends VersionFields {
  builtAt: string
}

export const insertVersion = (s: string, v: NewVersion): Statement => ({
  text: `INSERT INTO ${s}.versions (name, version, kind, digest, size, sdk_range, permissions, manifest,
      repository, ref, commit, path, builder_version, built_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11, $12, $13, $14)
    RETURNING ${columns}`,
  values: [
    v.name,
    v.version,
    v.kind,
    v.digest,
    v.size,
    v.sdkRange,
    JSON.stringify(v.permissions),
    JSON.stringify(v.manifest),
    v.repository,
    v.ref,
    v.commit,
    v.path,
    v.builderVersion,
    v.builtAt,
  ],
})

export const getVersion = (s: string, name: string, version: string): Statement => ({
  text: `SELECT ${columns} FROM ${s}.versions WHERE name = $1 AND version = $2`,
  values: [name, version],
})

export const listVersions = (s: string, name: string): Statement => ({
  text: `SELECT ${columns} FROM ${s}.versions WHERE name = $1`,
  values: [name],
})

/** Marks a version yanked; returns no row when it is missing or already yanked. */
export const yankVersion = (s: string, name: string, version: string, reason: string): Statement => ({
  text: `UPDATE ${s}.versions SET yanked_at = now(), yank_reason = $3
    WHERE name = $1 AND version = $2 AND yanked_at IS NULL RETURNING ${columns}`,
  values: [name, version, reason],
})
