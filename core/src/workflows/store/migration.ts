// Workflows and their versions, as one migration the orchestrator's runner applies
// (numbered by the lead when it is added to core/src/db/migrations/index.ts).
//
// workflow_windows holds the open debounce/throttle windows, one row per workflow and key;
// webhook_deliveries the signatures accepted recently, so a request cannot be replayed;
// runs and run_steps each run and step with its status (state-machine.ts).
//
// A saved version is immutable: editing a workflow adds a version, and a run records the
// version it started on, so running runs finish on the definition they began with.
export const WORKFLOWS_MIGRATION = `
CREATE TABLE workflows (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  name text NOT NULL,
  enabled boolean NOT NULL,
  current_version integer NOT NULL CHECK (current_version > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, name)
);
CREATE INDEX workflows_enabled ON workflows (org_id) WHERE enabled;

CREATE TABLE workflow_versions (
  workflow_id uuid NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  version integer NOT NULL CHECK (version > 0),
  source text NOT NULL,
  definition jsonb NOT NULL,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, version)
);

CREATE TABLE workflow_windows (
  workflow_id uuid NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  key text NOT NULL,
  mode text NOT NULL CHECK (mode IN ('debounce', 'throttle')),
  closes_at timestamptz NOT NULL,
  events bigint NOT NULL,
  last_event jsonb,
  PRIMARY KEY (workflow_id, key, mode)
);

CREATE TABLE webhook_deliveries (
  workflow_id uuid NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  signature_id text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (workflow_id, signature_id)
);
CREATE INDEX webhook_deliveries_expiry ON webhook_deliveries (expires_at);

CREATE TABLE runs (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  workflow_id uuid NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  workflow_version integer NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out')),
  event jsonb NOT NULL,
  dedupe_key text,
  -- Milliseconds, as JavaScript dates carry: the list cursor (created_at, id) then round-trips exactly.
  created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
  started_at timestamptz,
  finished_at timestamptz,
  UNIQUE (workflow_id, dedupe_key)
);
CREATE INDEX runs_org_created ON runs (org_id, created_at DESC, id DESC);
CREATE INDEX runs_workflow_status ON runs (workflow_id, status);

CREATE TABLE run_steps (
  run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('action', 'output')),
  status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'skipped')),
  attempt integer NOT NULL DEFAULT 0,
  idempotency_key text NOT NULL,
  input jsonb,
  output jsonb,
  error jsonb,
  reason text,
  instruction_id uuid,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  started_at timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (run_id, step_id)
);
`
