// The secrets table, as one migration the orchestrator's runner applies (numbered by the
// lead when it is added to core/src/db/migrations/index.ts). Values are stored only as
// AES-256-GCM ciphertext; nothing in this table is readable without the key.
export const SECRETS_MIGRATION = `
CREATE TABLE secrets (
  org_id uuid NOT NULL,
  name text NOT NULL,
  key_id text NOT NULL,
  nonce bytea NOT NULL,
  ciphertext bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, name)
);
CREATE INDEX secrets_key_id ON secrets (key_id);
`
