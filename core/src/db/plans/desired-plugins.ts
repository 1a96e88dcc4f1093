import type { PluginVersion } from '@stavily/registry'
import type { Statement } from '../sql-client.ts'

// The desired plugin set per organization and pool (desired_plugins), as the plugin catalog
// (services/plugin-catalog.ts) enables, follows and disables it; agents read it through
// /agents/v1/plugins.

const ROW = `name, pool, range, version, digest, updated_at AS "updatedAt"`

export const enabledPlugins = (orgId: string): Statement => ({
  text: `SELECT ${ROW} FROM desired_plugins WHERE org_id = $1 ORDER BY name, pool`,
  values: [orgId],
})

/** Enables `v` in a pool at `range`, or moves the pool's entry to it. */
export const upsertDesiredPlugin = (
  orgId: string,
  pool: string,
  range: string,
  v: PluginVersion,
  signature: string,
): Statement => ({
  text: `INSERT INTO desired_plugins (org_id, pool, name, range, version, digest, signature, permissions)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
      ON CONFLICT (org_id, pool, name) DO UPDATE SET range = EXCLUDED.range, version = EXCLUDED.version,
        digest = EXCLUDED.digest, signature = EXCLUDED.signature, permissions = EXCLUDED.permissions,
        updated_at = now()
      RETURNING ${ROW}`,
  values: [orgId, pool, v.name, range, v.version, v.digest, signature, JSON.stringify(v.permissions ?? {})],
})

/** Every pool, of every organization, that enabled `name` at a range. */
export const rangeFollowers = (name: string): Statement => ({
  text: `SELECT org_id AS "orgId", pool, range, version FROM desired_plugins WHERE name = $1 AND range IS NOT NULL`,
  values: [name],
})

/** Moves a pool to `v` only if it is still at `from` (an enable in between wins). */
export const followRange = (
  orgId: string,
  pool: string,
  from: string,
  v: PluginVersion,
  signature: string,
): Statement => ({
  text: `UPDATE desired_plugins SET version = $5, digest = $6, signature = $7, permissions = $8::jsonb, updated_at = now()
      WHERE org_id = $1 AND pool = $2 AND name = $3 AND version = $4
      RETURNING ${ROW}`,
  values: [orgId, pool, v.name, from, v.version, v.digest, signature, JSON.stringify(v.permissions ?? {})],
})

export const removeDesiredPlugin = (orgId: string, pool: string, name: string): Statement => ({
  text: `DELETE FROM desired_plugins WHERE org_id = $1 AND pool = $2 AND name = $3 RETURNING ${ROW}`,
  values: [orgId, pool, name],
})
