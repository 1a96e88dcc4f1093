// The audit log's tables, as one migration the orchestrator's runner applies (numbered by
// the lead when it is added to core/src/db/migrations/index.ts).
//
// audit_log rows are never updated or deleted by Stavily. The hash chain makes any change
// made behind its back detectable; audit_heads holds each organization's last seq and hash,
// and its row is the lock that serialises appends.
export const AUDIT_MIGRATION = `
CREATE TABLE audit_log (
  org_id uuid NOT NULL,
  seq bigint NOT NULL CHECK (seq > 0),
  at timestamptz NOT NULL,
  actor_type text NOT NULL,
  actor_id text,
  action text NOT NULL,
  target_type text,
  target_id text,
  data jsonb NOT NULL,
  ip text,
  prev_hash bytea NOT NULL,
  hash bytea NOT NULL,
  PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_log_target ON audit_log (org_id, target_type, target_id, seq);
CREATE INDEX audit_log_action ON audit_log (org_id, action, seq);

CREATE TABLE audit_heads (
  org_id uuid PRIMARY KEY,
  seq bigint NOT NULL,
  hash bytea NOT NULL
);
`
