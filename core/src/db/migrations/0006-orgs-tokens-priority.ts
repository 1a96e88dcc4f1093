// Migration 6 (issue 18): organizations run by an instance admin, token expiry and last
// use, and priorities on work.
//
// api_tokens.instance_admin: a token that may create, list, rename and delete
// organizations (above every organization's admins). The bootstrap token is one; on an
// existing installation that is the first organization's "bootstrap admin" token.
// api_tokens.expires_at: optional; an expired token is refused (401) like a revoked one.
// api_tokens.last_used_at: written at most once a minute per token per instance
// (services/token-usage.ts), not on every request.
//
// instructions.priority and runs.priority: higher is claimed first within one pool's
// queue (queue/dispatcher.ts explains the fairness rule that keeps low priorities moving).
// A run's steps inherit its priority. The pg-boss job carries the same number.
export default `ALTER TABLE api_tokens
  ADD COLUMN instance_admin boolean NOT NULL DEFAULT false,
  ADD COLUMN expires_at timestamptz,
  ADD COLUMN last_used_at timestamptz;
UPDATE api_tokens SET instance_admin = true WHERE id = (
  SELECT t.id FROM api_tokens t JOIN organizations o ON o.id = t.org_id
  WHERE t.name = 'bootstrap admin' AND t.role = 'admin'
  ORDER BY o.created_at, t.created_at LIMIT 1);
ALTER TABLE instructions ADD COLUMN priority integer NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN priority integer NOT NULL DEFAULT 0`
