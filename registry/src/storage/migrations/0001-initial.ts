// Plugins, their immutable versions with provenance, content-addressed artifacts and the
// signed TUF metadata, in the registry's own schema.
export const name = 'initial'

export const sql = (s: string): string => `
CREATE TABLE ${s}.artifacts (
  digest text PRIMARY KEY,
  size integer NOT NULL,
  body bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE ${s}.plugins (
  name text PRIMARY KEY,
  kind text NOT NULL,
  description text NOT NULL DEFAULT '',
  repository text NOT NULL,
  latest text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE ${s}.versions (
  name text NOT NULL REFERENCES ${s}.plugins (name),
  version text NOT NULL,
  kind text NOT NULL,
  digest text NOT NULL REFERENCES ${s}.artifacts (digest),
  size integer NOT NULL,
  sdk_range text NOT NULL,
  permissions jsonb NOT NULL,
  manifest jsonb NOT NULL,
  repository text NOT NULL,
  ref text NOT NULL,
  commit text NOT NULL,
  path text NOT NULL DEFAULT '',
  builder_version text NOT NULL,
  built_at timestamptz NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now(),
  yanked_at timestamptz,
  yank_reason text,
  PRIMARY KEY (name, version)
);
CREATE INDEX versions_digest_idx ON ${s}.versions (digest);
CREATE TABLE ${s}.tuf_metadata (
  role text NOT NULL,
  version integer NOT NULL,
  body text NOT NULL,
  expires timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (role, version)
);
`
