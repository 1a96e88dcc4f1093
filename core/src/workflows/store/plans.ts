// Every statement of the workflow store, as {text, values}. Each one is scoped by org_id:
// a workflow is only ever read or changed through its organization.

export interface Statement {
  text: string
  values: unknown[]
}

/** Creates the workflow row for a name if it does not exist yet; its version 1 is inserted in the same transaction. */
export function insertWorkflow(id: string, org: string, name: string, enabled: boolean): Statement {
  return {
    text: `INSERT INTO workflows (id, org_id, name, enabled, current_version) VALUES ($1, $2, $3, $4, 1)
           ON CONFLICT (org_id, name) DO NOTHING RETURNING id`,
    values: [id, org, name, enabled],
  }
}

/** Locks the workflow row: applies of one workflow take turns, so versions never collide. */
export function lockWorkflow(org: string, name: string): Statement {
  return {
    text: 'SELECT id, enabled, current_version AS "currentVersion" FROM workflows WHERE org_id = $1 AND name = $2 FOR UPDATE',
    values: [org, name],
  }
}

export function currentDefinition(workflowId: string, version: number): Statement {
  return {
    text: 'SELECT definition FROM workflow_versions WHERE workflow_id = $1 AND version = $2',
    values: [workflowId, version],
  }
}

export function insertVersion(
  workflowId: string,
  version: number,
  source: string,
  definition: unknown,
  createdBy: string | null,
): Statement {
  return {
    text: `INSERT INTO workflow_versions (workflow_id, version, source, definition, created_by)
           VALUES ($1, $2, $3, $4::jsonb, $5)`,
    values: [workflowId, version, source, JSON.stringify(definition), createdBy],
  }
}

export function setCurrent(workflowId: string, version: number, enabled: boolean): Statement {
  return {
    text: 'UPDATE workflows SET current_version = $2, enabled = $3, updated_at = now() WHERE id = $1',
    values: [workflowId, version, enabled],
  }
}

export function setEnabled(org: string, name: string, enabled: boolean): Statement {
  return {
    text: `UPDATE workflows SET enabled = $3, updated_at = now() WHERE org_id = $1 AND name = $2
           RETURNING id, enabled`,
    values: [org, name, enabled],
  }
}

const SUMMARY = `w.id, w.name, w.enabled, w.current_version AS "version", w.created_at AS "createdAt", w.updated_at AS "updatedAt"`

export function listWorkflows(org: string): Statement {
  return { text: `SELECT ${SUMMARY} FROM workflows w WHERE w.org_id = $1 ORDER BY w.name`, values: [org] }
}

/** A workflow at a version (its current one when `version` is null). */
export function getWorkflow(org: string, name: string, version: number | null): Statement {
  return {
    text: `SELECT ${SUMMARY}, v.version AS "shownVersion", v.source, v.definition, v.created_by AS "createdBy",
                  v.created_at AS "versionCreatedAt"
           FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id
           WHERE w.org_id = $1 AND w.name = $2 AND v.version = coalesce($3::int, w.current_version)`,
    values: [org, name, version],
  }
}

/** A version by workflow id, for runs, which record the id and version they started on. */
export function getVersionById(org: string, workflowId: string, version: number): Statement {
  return {
    text: `SELECT w.name, v.definition FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id
           WHERE w.org_id = $1 AND w.id = $2 AND v.version = $3`,
    values: [org, workflowId, version],
  }
}

export function listVersions(org: string, name: string): Statement {
  return {
    text: `SELECT v.version, v.created_by AS "createdBy", v.created_at AS "createdAt"
           FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id
           WHERE w.org_id = $1 AND w.name = $2 ORDER BY v.version DESC`,
    values: [org, name],
  }
}

/** Enabled workflows' current definitions whose trigger is of a kind: what the engine matches events against. */
export function enabledByTrigger(org: string, kind: string): Statement {
  return {
    text: `SELECT w.id, w.name, w.current_version AS "version", v.definition
           FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version
           WHERE w.org_id = $1 AND w.enabled AND v.definition -> 'trigger' ->> 'kind' = $2
           ORDER BY w.name`,
    values: [org, kind],
  }
}
