// Migration 7: the plugins an agent reports it has loaded (name, version), with each
// heartbeat. NULL until an agent reports them (an agent older than the report never does),
// which reads as "not reported", unlike an empty list (it runs none).
export default `ALTER TABLE agents ADD COLUMN loaded_plugins jsonb`
