import type { Statement } from '../sql-client.ts'

const ORG = 'id, name, created_at AS "createdAt"'

export const insertOrganization = (id: string, name: string): Statement => ({
  text: `INSERT INTO organizations (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING ${ORG}`,
  values: [id, name],
})

export const organizationByName = (name: string): Statement => ({
  text: `SELECT ${ORG} FROM organizations WHERE name = $1`,
  values: [name],
})

export const countOrganizations = (): Statement => ({
  text: 'SELECT count(*)::int AS "count" FROM organizations',
  values: [],
})

export const insertApiToken = (t: {
  id: string
  orgId: string
  name: string
  role: string
  hash: Buffer
  instanceAdmin?: boolean
  expiresAt?: Date | null
}): Statement => ({
  text: `INSERT INTO api_tokens (id, org_id, name, role, token_hash, instance_admin, expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    RETURNING id, org_id AS "orgId", name, role, created_at AS "createdAt", expires_at AS "expiresAt"`,
  values: [t.id, t.orgId, t.name, t.role, t.hash, t.instanceAdmin === true, t.expiresAt ?? null],
})

/** A token that is not revoked; the caller refuses it when `expired`. */
export const apiTokenByHash = (hash: Buffer): Statement => ({
  text: `SELECT id, org_id AS "orgId", name, role, instance_admin AS "instanceAdmin", expires_at AS "expiresAt",
      (expires_at IS NOT NULL AND expires_at <= now()) AS "expired"
    FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
  values: [hash],
})

export const touchApiToken = (id: string): Statement => ({
  text: 'UPDATE api_tokens SET last_used_at = now() WHERE id = $1',
  values: [id],
})

export const insertEnrollmentToken = (t: {
  id: string
  orgId: string
  hash: Buffer
  kind: string
  pool: string
  labels: Record<string, string>
  ttlSeconds: number
  uses: number
}): Statement => ({
  text: `INSERT INTO enrollment_tokens (id, org_id, token_hash, kind, pool, labels, expires_at, uses_left)
    VALUES ($1, $2, $3, $4, $5, $6::jsonb, now() + $7::int * interval '1 second', $8)
    RETURNING id, kind, pool, labels, expires_at AS "expiresAt", uses_left AS "usesLeft"`,
  values: [t.id, t.orgId, t.hash, t.kind, t.pool, JSON.stringify(t.labels), t.ttlSeconds, t.uses],
})

/** Spends one use of a valid enrollment token atomically; no row means invalid, expired, revoked or used up. */
export const spendEnrollmentToken = (hash: Buffer): Statement => ({
  text: `UPDATE enrollment_tokens SET uses_left = uses_left - 1
    WHERE token_hash = $1 AND uses_left > 0 AND expires_at > now() AND revoked_at IS NULL
    RETURNING id, org_id AS "orgId", kind, pool, labels`,
  values: [hash],
})
