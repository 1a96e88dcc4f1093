// Migration 1: organizations, tokens, agents, instructions, results, events, desired plugins.
// Tables are unqualified: every connection's search path is the configured schema.
export default `
CREATE TABLE organizations (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  token_hash bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

CREATE TABLE enrollment_tokens (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  token_hash bytea NOT NULL UNIQUE,
  kind text NOT NULL CHECK (kind IN ('sensor', 'action')),
  pool text NOT NULL,
  labels jsonb NOT NULL DEFAULT '{}',
  expires_at timestamptz NOT NULL,
  uses_left integer NOT NULL CHECK (uses_left >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

CREATE TABLE agents (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('sensor', 'action')),
  pool text NOT NULL,
  labels jsonb NOT NULL DEFAULT '{}',
  version text,
  credential_hash bytea NOT NULL UNIQUE,
  status text NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'lost', 'revoked')),
  drain boolean NOT NULL DEFAULT false,
  enrolled_with uuid REFERENCES enrollment_tokens (id) ON DELETE SET NULL,
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX agents_org_pool ON agents (org_id, pool, kind);
CREATE INDEX agents_online_seen ON agents (last_seen_at) WHERE status = 'online';

CREATE TABLE instructions (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('sensor', 'action')),
  pool text NOT NULL,
  queue text NOT NULL,
  plugin text NOT NULL,
  operation text NOT NULL,
  input jsonb NOT NULL DEFAULT '{}',
  config jsonb NOT NULL DEFAULT '{}',
  timeout_ms integer NOT NULL,
  status text NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'leased', 'running', 'succeeded', 'failed', 'cancelled')),
  attempt integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  agent_id uuid REFERENCES agents (id) ON DELETE SET NULL,
  lease_until timestamptz,
  cancel_requested boolean NOT NULL DEFAULT false,
  error jsonb,
  output jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  picked_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX instructions_org_status ON instructions (org_id, status);
CREATE INDEX instructions_lease ON instructions (lease_until) WHERE status IN ('leased', 'running');
CREATE INDEX instructions_agent ON instructions (agent_id) WHERE status IN ('leased', 'running');

CREATE TABLE results (
  instruction_id uuid NOT NULL REFERENCES instructions (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  agent_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('succeeded', 'failed', 'cancelled')),
  output jsonb,
  error jsonb,
  logs jsonb NOT NULL DEFAULT '[]',
  answer jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (instruction_id, attempt)
);

CREATE TABLE events (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  agent_id uuid REFERENCES agents (id) ON DELETE SET NULL,
  source text NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}',
  dedupe_key text NOT NULL,
  occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, source, dedupe_key)
);
CREATE INDEX events_org_received ON events (org_id, received_at);

CREATE TABLE desired_plugins (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  pool text NOT NULL,
  name text NOT NULL,
  version text NOT NULL,
  digest text NOT NULL,
  signature text NOT NULL,
  permissions jsonb NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, pool, name)
);
`
