import type { Statement } from '../sql-client.ts'

export const AGENT_COLUMNS = `id, org_id AS "orgId", name, kind, pool, labels, version, status, drain,
  last_seen_at AS "lastSeenAt", created_at AS "createdAt"`

/** An agent as operators see it: also what it reports loaded (not read on every authentication). */
export const AGENT_VIEW_COLUMNS = `${AGENT_COLUMNS}, loaded_plugins AS "loadedPlugins"`

export const insertAgent = (a: {
  id: string
  orgId: string
  name: string
  kind: string
  pool: string
  labels: Record<string, string>
  version: string | null
  hash: Buffer
  enrolledWith: string
  secretGrants: unknown
}): Statement => ({
  text: `INSERT INTO agents (id, org_id, name, kind, pool, labels, version, credential_hash, enrolled_with, secret_grants)
    VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10::jsonb) RETURNING ${AGENT_VIEW_COLUMNS}`,
  values: [
    a.id,
    a.orgId,
    a.name,
    a.kind,
    a.pool,
    JSON.stringify(a.labels),
    a.version,
    a.hash,
    a.enrolledWith,
    a.secretGrants == null ? null : JSON.stringify(a.secretGrants),
  ],
})

/** The agent of a credential, and whether it holds work marked for cancellation (saves a query per poll). */
export const agentByCredential = (hash: Buffer): Statement => ({
  text: `SELECT ${AGENT_COLUMNS}, EXISTS (
      SELECT 1 FROM instructions i
      WHERE i.agent_id = agents.id AND i.status IN ('leased', 'running') AND i.cancel_requested
    ) AS "hasCancels"
    FROM agents WHERE credential_hash = $1`,
  values: [hash],
})

/**
 * A heartbeat: seen now, back online if it was marked lost (never if revoked); the secret
 * grants and loaded plugins replaced when the agent reported them. Returns the agent and
 * whether its presence (lost → online) or its loaded plugins changed, for the live stream.
 */
export const touchAgent = (
  id: string,
  version: string | null,
  secretGrants: unknown,
  loadedPlugins: unknown,
): Statement => ({
  text: `UPDATE agents SET last_seen_at = now(), status = 'online', version = COALESCE($2, version),
      secret_grants = COALESCE($3::jsonb, secret_grants),
      loaded_plugins = COALESCE($4::jsonb, loaded_plugins)
    FROM (SELECT status AS was_status, loaded_plugins AS was_loaded FROM agents WHERE id = $1 FOR UPDATE) AS before
    WHERE id = $1 AND status <> 'revoked'
    RETURNING ${AGENT_VIEW_COLUMNS}, was_status <> 'online' AS "cameOnline",
      loaded_plugins IS DISTINCT FROM was_loaded AS "pluginsChanged"`,
  values: [
    id,
    version,
    secretGrants == null ? null : JSON.stringify(secretGrants),
    loadedPlugins == null ? null : JSON.stringify(loadedPlugins),
  ],
})

/** The secret grants an agent last reported (read at hand-out, so a heartbeat's change counts at once). */
export const agentSecretGrants = (id: string): Statement => ({
  text: `SELECT secret_grants AS "secretGrants" FROM agents WHERE id = $1`,
  values: [id],
})

/** A new credential, only for the agent's current one: a credential rotated away cannot mint another. */
export const rotateCredential = (id: string, presented: Buffer, hash: Buffer): Statement => ({
  text: `UPDATE agents SET credential_hash = $3 WHERE id = $1 AND credential_hash = $2 AND status <> 'revoked' RETURNING id`,
  values: [id, presented, hash],
})

export const revokeAgent = (orgId: string, id: string): Statement => ({
  text: `UPDATE agents SET status = 'revoked', revoked_at = now() WHERE org_id = $1 AND id = $2 RETURNING ${AGENT_VIEW_COLUMNS}`,
  values: [orgId, id],
})

export const setDrain = (orgId: string, id: string, drain: boolean): Statement => ({
  text: `UPDATE agents SET drain = $3 WHERE org_id = $1 AND id = $2 RETURNING ${AGENT_VIEW_COLUMNS}`,
  values: [orgId, id, drain],
})

export const listAgents = (orgId: string): Statement => ({
  text: `SELECT ${AGENT_VIEW_COLUMNS} FROM agents WHERE org_id = $1 ORDER BY created_at`,
  values: [orgId],
})

/**
 * Marks online agents lost whose last heartbeat is older than `lostAfterMs`; limited to
 * `ids` when the presence sweeper names them, else a full scan (the fallback when Redis
 * lost its presence set).
 */
export const markLost = (lostAfterMs: number, ids: string[] | null): Statement => ({
  text: `UPDATE agents SET status = 'lost'
    WHERE status = 'online' AND last_seen_at < now() - $1::int * interval '1 millisecond'
      AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[]))
    RETURNING ${AGENT_VIEW_COLUMNS}`,
  values: [lostAfterMs, ids],
})

export const countAgentsByStatus = (): Statement => ({
  text: `SELECT status, count(*)::int AS "count" FROM agents GROUP BY status`,
  values: [],
})

export const desiredPlugins = (orgId: string, pool: string): Statement => ({
  text: `SELECT name, version, digest, signature, permissions FROM desired_plugins
    WHERE org_id = $1 AND pool = $2 ORDER BY name`,
  values: [orgId, pool],
})
