import { V1_DELIVERY_INDEX } from '../../workflows/webhook/delivery-plans.ts'

// Migration 5 (issue 12): webhook signatures and plugin name ownership.
//
// webhook_deliveries_v1: a deprecated v1 webhook signature (not bound to its hook) is
// accepted once across all hooks, so it cannot be replayed on another hook that shares the
// secret once it was delivered (v2 signatures name their hook and are unique per workflow).
//
// plugin_owners: a plugin name belongs to the organization that first published it; other
// organizations may not publish or yank it (services/plugin-names.ts). Existing names go to
// the organization whose plugin.published audit entry for that name is the oldest; names
// published without one (the seed) are adopted at start by the first organization.
// No ON DELETE CASCADE: a name is never freed for someone else to take over silently.
export default `${V1_DELIVERY_INDEX};
CREATE TABLE plugin_owners (
  name text PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id),
  claimed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO plugin_owners (name, org_id)
  SELECT DISTINCT ON (name) name, org_id FROM (
    SELECT regexp_replace(target_id, '@[^@]*$', '') AS name, org_id, at FROM audit_log
      WHERE action = 'plugin.published' AND target_type = 'plugin' AND target_id ~ '.@'
    UNION ALL
    SELECT regexp_replace(target_id, '@[^@]*$', '') AS name, org_id, at FROM audit_outbox
      WHERE action = 'plugin.published' AND target_type = 'plugin' AND target_id ~ '.@'
  ) published
  WHERE org_id IN (SELECT id FROM organizations)
  ORDER BY name, at
`
