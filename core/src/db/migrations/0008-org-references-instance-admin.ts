// Migration 8 (review findings of issue 18's organizations).
//
// Workflows and secrets reference their organization. Without the reference, a forced
// organization delete raced writers: a workflow applied or a secret written in a
// transaction that had not committed when the delete ran outlived its organization. With
// it, a writer holds a key-share lock on the organization's row until it commits, which the
// delete's row lock waits for (and a writer that comes after the delete fails its
// reference). Runs, instructions, events, agents and tokens were already ordered this way
// (runs through their workflow). Rows an earlier race left behind are removed first.
//
// The instance admin: migration 6 flagged the first organization's oldest "bootstrap admin"
// token even when it had been revoked, which left an installation whose bootstrap token was
// revoked before the upgrade without any live instance admin (nothing can mint one). A
// token revoked before migration 6 ran loses the flag, and the oldest live admin token of
// its organization (a "bootstrap admin" first) gets it: before organizations were managed,
// every admin token of that organization could already do everything.
export default `DELETE FROM workflows w WHERE NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = w.org_id);
DELETE FROM secrets s WHERE NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = s.org_id);
ALTER TABLE workflows ADD CONSTRAINT workflows_org_id_fkey FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE;
ALTER TABLE secrets ADD CONSTRAINT secrets_org_id_fkey FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE;
WITH misflagged AS (
  UPDATE api_tokens t SET instance_admin = false
  WHERE t.instance_admin AND t.revoked_at IS NOT NULL
    AND t.revoked_at < (SELECT applied_at FROM schema_migrations WHERE version = 6)
  RETURNING t.org_id
)
UPDATE api_tokens SET instance_admin = true WHERE id = (
  SELECT t.id FROM api_tokens t
  WHERE t.org_id IN (SELECT org_id FROM misflagged) AND t.role = 'admin' AND t.revoked_at IS NULL
    AND (t.expires_at IS NULL OR t.expires_at > now())
  ORDER BY (t.name = 'bootstrap admin') DESC, t.created_at, t.id LIMIT 1)
`
