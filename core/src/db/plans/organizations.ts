import type { Statement } from '../sql-client.ts'

// Organizations as the instance admin lists, renames and deletes them (creation is
// tenancy.ts: it also mints the first admin token).

const ORG = `o.id, o.name, o.created_at AS "createdAt",
  (SELECT count(*)::int FROM agents a WHERE a.org_id = o.id AND a.status <> 'revoked') AS "agents",
  (SELECT count(*)::int FROM workflows w WHERE w.org_id = o.id) AS "workflows"`

export const listOrganizations = (): Statement => ({
  text: `SELECT ${ORG} FROM organizations o ORDER BY o.created_at, o.id`,
  values: [],
})

/** Locks the organization for a rename or delete and counts what still lives in it. */
export const organizationForUpdate = (id: string): Statement => ({
  text: `SELECT ${ORG} FROM organizations o WHERE o.id = $1 FOR UPDATE`,
  values: [id],
})

/** No row when another organization already has the name. */
export const renameOrganization = (id: string, name: string): Statement => ({
  text: `UPDATE organizations SET name = $2 WHERE id = $1
    AND NOT EXISTS (SELECT 1 FROM organizations WHERE name = $2 AND id <> $1) RETURNING id`,
  values: [id, name],
})

/**
 * The tables of this schema that hold rows per organization (a column org_id), besides the
 * organizations table itself, plugin name ownership (moved, not deleted) and the audit log
 * (never deleted: the chain of a deleted organization stays in the database). Read from the
 * catalog so a table added later is covered without editing the delete.
 */
export const organizationTables = (): Statement => ({
  text: `SELECT table_name AS "table" FROM information_schema.columns
    WHERE table_schema = current_schema() AND column_name = 'org_id'
      AND table_name NOT IN ('organizations', 'plugin_owners', 'audit_log', 'audit_heads', 'audit_outbox')
      AND table_name IN (SELECT table_name FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_type = 'BASE TABLE')
    ORDER BY table_name`,
  values: [],
})

/** Plugin names stay owned: they move to the organization of the admin who deletes, never free for anyone to take. */
export const movePluginNames = (from: string, to: string): Statement => ({
  text: 'UPDATE plugin_owners SET org_id = $2 WHERE org_id = $1 RETURNING name',
  values: [from, to],
})

/** The organization's workflows (their pg-boss schedule queues go after the delete commits). */
export const organizationWorkflowIds = (id: string): Statement => ({
  text: 'SELECT id FROM workflows WHERE org_id = $1',
  values: [id],
})

export const organizationAgentIds = (id: string): Statement => ({
  text: 'SELECT id FROM agents WHERE org_id = $1',
  values: [id],
})

export const deleteOrganization = (id: string): Statement => ({
  text: 'DELETE FROM organizations WHERE id = $1',
  values: [id],
})
