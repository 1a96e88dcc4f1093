// Workflows and their versions, as one migration the orchestrator's runner applies
// (numbered by the lead when it is added to core/src/db/migrations/index.ts).
//
// workflow_windows holds the open debounce/throttle windows, one row per workflow and key;
// webhook_deliveries the signatures accepted recently, so a request cannot be replayed.
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
`
