import type { Statement } from '../sql-client.ts'

export interface EventRow {
  id: string
  source: string
  type: string
  data: unknown
  dedupeKey: string
  occurredAt: string
  /** The sensor assignment (workflow id) that emitted it, when the agent said so. */
  sensorId: string | null
}

/** Stores a batch of events; a repeated (org, sensor, source, dedupe key) is skipped, not an error. */
export const insertEvents = (orgId: string, agentId: string | null, events: EventRow[]): Statement => ({
  text: `INSERT INTO events (id, org_id, agent_id, source, type, data, dedupe_key, occurred_at, sensor_id)
    SELECT e.id, $1, $2, e.source, e.type, e.data, e.dedupe_key, e.occurred_at, e.sensor_id
    FROM jsonb_to_recordset($3::jsonb)
      AS e(id uuid, source text, type text, data jsonb, dedupe_key text, occurred_at timestamptz, sensor_id uuid)
    ON CONFLICT ON CONSTRAINT events_dedupe DO NOTHING
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
        sensor_id: e.sensorId,
      })),
    ),
  ],
})

/** The stored events of a batch's keys (the dedupe scope: sensor, source and key). */
export const eventIdsByKeys = (
  orgId: string,
  keys: { sensorId: string | null; source: string; dedupeKey: string }[],
): Statement => ({
  text: `SELECT ev.id, ev.sensor_id AS "sensorId", ev.source, ev.dedupe_key AS "dedupeKey" FROM events ev
    JOIN jsonb_to_recordset($2::jsonb) AS k(sensor_id uuid, source text, dedupe_key text)
      ON ev.sensor_id IS NOT DISTINCT FROM k.sensor_id AND ev.source = k.source AND ev.dedupe_key = k.dedupe_key
    WHERE ev.org_id = $1`,
  values: [
    orgId,
    JSON.stringify(keys.map((k) => ({ sensor_id: k.sensorId, source: k.source, dedupe_key: k.dedupeKey }))),
  ],
})

/**
 * The sensor workflows of an organization among `ids`, with the pool and plugin their
 * current trigger names: an event naming one is accepted only from an agent of that pool,
 * with that plugin as its source.
 */
export const sensorBindings = (orgId: string, ids: string[]): Statement => ({
  text: `SELECT w.id, v.definition -> 'trigger' ->> 'pool' AS "pool", v.definition -> 'trigger' ->> 'plugin' AS "plugin"
    FROM workflows w
    JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version
    WHERE w.org_id = $1 AND w.id = ANY($2::uuid[]) AND v.definition -> 'trigger' ->> 'kind' = 'sensor'`,
  values: [orgId, ids],
})

/** Stored events that name a sensor assignment: the ones the engine routes to workflows. */
export const sensorEvents = (orgId: string, ids: string[]): Statement => ({
  text: `SELECT id, sensor_id AS "sensorId", source, type, data, dedupe_key AS "dedupeKey", occurred_at AS "occurredAt"
    FROM events WHERE org_id = $1 AND id = ANY($2::uuid[]) AND sensor_id IS NOT NULL ORDER BY occurred_at, id`,
  values: [orgId, ids],
})
