import type { Statement } from '../../db/sql-client.ts'

// Operator API tokens as the admin routes list and revoke them. Creation stays with the
// tenancy service (it also mints the secret). The hash never leaves the database.

const TOKEN = `id, name, role, created_at AS "createdAt", revoked_at AS "revokedAt", expires_at AS "expiresAt",
  last_used_at AS "lastUsedAt"`

export const listApiTokens = (orgId: string): Statement => ({
  text: `SELECT ${TOKEN} FROM api_tokens WHERE org_id = $1 ORDER BY id`,
  values: [orgId],
})

/** Revokes a token of the organization; no row when there is none (or it is another organization's). */
export const revokeApiToken = (orgId: string, id: string): Statement => ({
  text: `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())
    WHERE org_id = $1 AND id = $2 RETURNING ${TOKEN}`,
  values: [orgId, id],
})
