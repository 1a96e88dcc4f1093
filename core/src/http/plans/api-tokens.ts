import type { Statement } from '../../db/sql-client.ts'

// Operator API tokens as the admin routes list and revoke them. Creation stays with the
// tenancy service (it also mints the secret). The hash never leaves the database.

const TOKEN = `id, name, role, created_at AS "createdAt", revoked_at AS "revokedAt", expires_at AS "expiresAt",
  last_used_at AS "lastUsedAt"`

export const listApiTokens = (orgId: string): Statement => ({
  text: `SELECT ${TOKEN} FROM api_tokens WHERE org_id = $1 ORDER BY id`,
  values: [orgId],
})

/**
 * Revokes a token of the organization; no row when there is none (or it is another
 * organization's). The instance admin's token is revoked only by itself
 * (`byInstanceAdmin`): nothing can mint another, so an admin of its organization must not
 * be able to lock the instance out of managing organizations.
 */
export const revokeApiToken = (orgId: string, id: string, byInstanceAdmin: boolean): Statement => ({
  text: `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())
    WHERE org_id = $1 AND id = $2 AND ($3 OR NOT instance_admin) RETURNING ${TOKEN}`,
  values: [orgId, id, byInstanceAdmin],
})

/** Whether the token is the instance admin's (to say why a revoke found nothing to revoke). */
export const isInstanceAdminToken = (orgId: string, id: string): Statement => ({
  text: `SELECT 1 FROM api_tokens WHERE org_id = $1 AND id = $2 AND instance_admin`,
  values: [orgId, id],
})
