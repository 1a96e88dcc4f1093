// Migration 4: what binds an agent's reports and secrets to the agent.
//
// Events are deduplicated per sensor: the key is (organization, sensor, source, dedupe key),
// so one sensor can no longer claim another's dedupe key first and suppress its event.
// Events without a sensor (they start no run) keep one scope per organization and source:
// NULLS NOT DISTINCT makes a NULL sensor one value instead of a fresh one each time.
//
// Agents report the secrets their operator granted (`secret_grants`, NULL until the agent
// reports them): the orchestrator sends an agent only declared ∩ granted secrets.
export default `ALTER TABLE events DROP CONSTRAINT events_org_id_source_dedupe_key_key;
ALTER TABLE events ADD CONSTRAINT events_dedupe UNIQUE NULLS NOT DISTINCT (org_id, sensor_id, source, dedupe_key);
ALTER TABLE agents ADD COLUMN secret_grants jsonb`
