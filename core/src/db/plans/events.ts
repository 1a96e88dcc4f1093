import type { Statement } from '../sql-client.ts'

export interface EventRow {
  id: string
  source: string
  type: string
  data: unknown
  dedupeKey: string
  occurredAt: string
}

/** Stores a batch of events; a repeated (org, source, dedupe key) is skipped, not an error. */
export const insertEvents = (orgId: string, agentId: string | null, events: EventRow[]): Statement => ({
  text: `INSERT INTO events (id, org_id, agent_id, source, type, data, dedupe_key, occurred_at)
    SELECT e.id, $1, $2, e.source, e.type, e.data, e.dedupe_key, e.occurred_at
    FROM jsonb_to_recordset($3::jsonb) AS e(id uuid, source text, type text, data jsonb, dedupe_key text, occurred_at timestamptz)
    ON CONFLICT (org_id, source, dedupe_key) DO NOTHING
    RETURNING id`,
  values: [
    orgId,
    agentId,
    JSON.stringify(
      events.map((e) => ({
        id: e.id,
        source: e.source,
        type: e.type,
        data: e.data,
        dedupe_key: e.dedupeKey,
        occurred_at: e.occurredAt,
      })),
    ),
  ],
})

export const eventIdsByKeys = (orgId: string, keys: { source: string; dedupeKey: string }[]): Statement => ({
  text: `SELECT ev.id, ev.source, ev.dedupe_key AS "dedupeKey" FROM events ev
    JOIN jsonb_to_recordset($2::jsonb) AS k(source text, dedupe_key text)
      ON ev.source = k.source AND ev.dedupe_key = k.dedupe_key
    WHERE ev.org_id = $1`,
  values: [orgId, JSON.stringify(keys.map((k) => ({ source: k.source, dedupe_key: k.dedupeKey })))],
})
