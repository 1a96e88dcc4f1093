import { AUDIT_MIGRATION } from '../../audit/migration.ts'
import { SECRETS_MIGRATION } from '../../secrets/migration.ts'
import { WORKFLOWS_MIGRATION } from '../../workflows/store/migration.ts'

// Migration 2: workflows, runs and steps, the audit log, secrets, and what they add to
// migration 1's tables: instructions learn which run and step they belong to, the plugin version
// they run and their idempotency key; events learn the sensor assignment that sent them.
//
// audit_outbox: run and step transitions are written here in the same transaction as the
// transition (a plain insert, no lock), and moved into the hash chain in batches
// (engine/audit-outbox.ts). Appending to the chain locks the organization's head, so doing
// it inside every engine transaction would serialize all of an organization's runs.
//
// pool_changes: when a pool's desired plugins or sensor assignments last changed, so a
// heartbeat can tell an agent to re-read /plugins. A trigger keeps it current for
// desired_plugins (written by the plugin catalog); the engine touches it for sensor workflows.
// The function body is one line: the migration runner splits statements on ";" + newline.
export default `${WORKFLOWS_MIGRATION};
${AUDIT_MIGRATION};
${SECRETS_MIGRATION};
ALTER TABLE instructions
  ADD COLUMN plugin_version text,
  ADD COLUMN idempotency_key text,
  ADD COLUMN run_id uuid,
  ADD COLUMN step_id text;
CREATE INDEX instructions_run ON instructions (run_id) WHERE run_id IS NOT NULL;
ALTER TABLE events ADD COLUMN sensor_id uuid;
CREATE INDEX run_steps_instruction ON run_steps (instruction_id) WHERE instruction_id IS NOT NULL;
CREATE INDEX run_steps_open ON run_steps (run_id) WHERE status IN ('queued', 'running');
CREATE INDEX runs_open ON runs (status) WHERE status IN ('queued', 'running');
CREATE INDEX workflow_windows_due ON workflow_windows (closes_at) WHERE mode = 'debounce';
CREATE TABLE audit_outbox (
  id bigserial PRIMARY KEY,
  org_id uuid NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor_type text NOT NULL,
  actor_id text,
  action text NOT NULL,
  target_type text,
  target_id text,
  data jsonb NOT NULL,
  ip text
);
CREATE INDEX audit_outbox_org ON audit_outbox (org_id, id);
CREATE TABLE pool_changes (
  org_id uuid NOT NULL,
  pool text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, pool)
);
CREATE FUNCTION stavily_touch_pool() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$ DECLARE r record; BEGIN IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF; INSERT INTO pool_changes (org_id, pool, changed_at) VALUES (r.org_id, r.pool, now()) ON CONFLICT (org_id, pool) DO UPDATE SET changed_at = now(); RETURN NULL; END $fn$;
CREATE TRIGGER desired_plugins_changed AFTER INSERT OR UPDATE OR DELETE ON desired_plugins
  FOR EACH ROW EXECUTE FUNCTION stavily_touch_pool()
`
