import type { CheckedEntry } from './checks.ts'
import type { EntryRow, Statement } from './plans.ts'

// Statements of the audit outbox (audit/outbox.ts).

const RECORD = `x(org_id uuid, actor_type text, actor_id text, action text, target_type text, target_id text,
  data jsonb, ip text)`

/** Many entries in one statement (one JSON array parameter), without taking any lock. */
export function insertOutbox(entries: readonly CheckedEntry[]): Statement {
  const rows = entries.map((e) => ({
    org_id: e.org,
    actor_type: e.actor.type,
    actor_id: e.actor.id,
    action: e.action,
    target_type: e.target?.type ?? null,
    target_id: e.target?.id ?? null,
    data: e.data,
    ip: e.ip,
  }))
  return {
    text: `INSERT INTO audit_outbox (org_id, actor_type, actor_id, action, target_type, target_id, data, ip)
           SELECT org_id, actor_type, actor_id, action, target_type, target_id, data, ip
           FROM jsonb_to_recordset($1::jsonb) AS ${RECORD}`,
    values: [JSON.stringify(rows)],
  }
}

export function outboxOrgs(limit: number): Statement {
  return { text: 'SELECT DISTINCT org_id::text AS org FROM audit_outbox LIMIT $1', values: [limit] }
}

/** Takes the oldest entries of an organization (call it holding the chain head's lock). */
export function takeOutbox(org: string, limit: number): Statement {
  return {
    text: `DELETE FROM audit_outbox WHERE id IN (
             SELECT id FROM audit_outbox WHERE org_id = $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
           RETURNING id::text AS id, actor_type AS "actorType", actor_id AS "actorId", action,
             target_type AS "targetType", target_id AS "targetId", data, ip`,
    values: [org, limit],
  }
}

/** Chain rows and the new head in one statement. */
export function insertEntries(
  // An entry row (plans.ts) with its hashes as hex, as they travel in the JSON parameter.
  rows: (Omit<EntryRow, 'prevHash' | 'hash'> & { prevHash: string; hash: string })[],
  head: { org: string; seq: number; hash: string },
): Statement {
  return {
    text: `WITH head AS (UPDATE audit_heads SET seq = $2, hash = decode($3, 'hex') WHERE org_id = $4)
           INSERT INTO audit_log (org_id, seq, at, actor_type, actor_id, action, target_type, target_id, data, ip, prev_hash, hash)
           SELECT org_id, seq, at, actor_type, actor_id, action, target_type, target_id, data, ip,
                  decode(prev_hash, 'hex'), decode(hash, 'hex')
           FROM jsonb_to_recordset($1::jsonb) AS x(org_id uuid, seq bigint, at timestamptz, actor_type text,
             actor_id text, action text, target_type text, target_id text, data jsonb, ip text, prev_hash text, hash text)`,
    values: [
      JSON.stringify(
        rows.map((r) => ({
          org_id: r.org,
          seq: r.seq,
          at: r.at,
          actor_type: r.actorType,
          actor_id: r.actorId,
          action: r.action,
          target_type: r.targetType,
          target_id: r.targetId,
          data: r.data,
          ip: r.ip,
          prev_hash: r.prevHash,
          hash: r.hash,
        })),
      ),
      head.seq,
      head.hash,
      head.org,
    ],
  }
}
