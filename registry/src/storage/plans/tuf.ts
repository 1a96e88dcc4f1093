import type { Statement } from '../sql-client.ts'

// Signed TUF metadata, one row per role and version. Every change to it happens under one
// transaction-scoped advisory lock, so versions increase by one without gaps or races.

export interface MetadataRow extends Record<string, unknown> {
  role: string
  version: number
  body: string
  expires: Date | string
}

export const lockTuf = (schema: string): Statement => ({
  text: 'SELECT pg_advisory_xact_lock(hashtext($1)) AS "locked"',
  values: [`stavily-registry-tuf:${schema}`],
})

export const latestMetadata = (s: string, role: string): Statement => ({
  text: `SELECT role, version, body, expires FROM ${s}.tuf_metadata WHERE role = $1 ORDER BY version DESC LIMIT 1`,
  values: [role],
})

export const metadataAt = (s: string, role: string, version: number): Statement => ({
  text: `SELECT role, version, body, expires FROM ${s}.tuf_metadata WHERE role = $1 AND version = $2`,
  values: [role, version],
})

export const insertMetadata = (
  s: string,
  role: string,
  version: number,
  body: string,
  expires: string,
): Statement => ({
  text: `INSERT INTO ${s}.tuf_metadata (role, version, body, expires) VALUES ($1, $2, $3, $4)`,
  values: [role, version, body, expires],
})

/** Drops versions of a role below `keepFrom` (never used for root: clients walk every root). */
export const pruneMetadata = (s: string, role: string, keepFrom: number): Statement => ({
  text: `DELETE FROM ${s}.tuf_metadata WHERE role = $1 AND version < $2`,
  values: [role, keepFrom],
})

/** Each role's newest expiry, without the bodies: the cheap check before serving timestamp. */
export const latestExpiries = (s: string): Statement => ({
  text: `SELECT DISTINCT ON (role) role, expires FROM ${s}.tuf_metadata ORDER BY role, version DESC`,
  values: [],
})
