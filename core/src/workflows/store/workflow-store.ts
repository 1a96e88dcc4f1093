import { randomUUID } from 'node:crypto'
import { canonicalJson } from '../../audit/canonical-json.ts'
import { checkOrg, isoTime as iso } from '../../checks.ts'
import type { SqlClient } from '../../db/sql-client.ts'
import { invalidWorkflow, parseWorkflow } from '../parse-workflow.ts'
import type { Workflow } from '../types.ts'
import {
  currentDefinition,
  enabledByTrigger,
  getVersionById,
  getWorkflow,
  insertVersion,
  insertWorkflow,
  listVersions,
  listWorkflows,
  lockWorkflow,
  type Statement,
  setCurrent,
  setEnabled,
} from './plans.ts'

// Saved workflows, per organization, with immutable versions. `apply` is declarative:
// the document is the desired state; applying an unchanged document adds no version.
// Every function takes a SqlClient, so callers can pass a transaction and record the
// change in the audit log atomically with it.

export interface WorkflowSummary {
  id: string
  name: string
  enabled: boolean
  /** The current version. */
  version: number
  createdAt: string
  updatedAt: string
}

export interface StoredWorkflow extends WorkflowSummary {
  /** The version shown (the current one unless another was asked for). */
  shownVersion: number
  workflow: Workflow
  /** The document as it was applied (YAML or JSON text). */
  source: string
  createdBy: string | null
  versionCreatedAt: string
}

export interface ApplyResult {
  id: string
  name: string
  version: number
  /** The workflow did not exist before. */
  created: boolean
  /** A new version was saved (false when the document matches the current version). */
  changed: boolean
  enabled: boolean
}

function exec<R extends Record<string, unknown>>(sql: SqlClient, s: Statement) {
  return sql.query<R>(s.text, s.values)
}

// `enabled` lives on the workflow row (it can be toggled without a new version), so it is
// not part of what makes two versions differ.
function sameDefinition(a: unknown, b: Workflow): boolean {
  const { enabled: _a, ...x } = a as Workflow
  const { enabled: _b, ...y } = JSON.parse(JSON.stringify(b)) as Workflow
  return canonicalJson(x) === canonicalJson(y)
}

/**
 * Validates and saves a workflow document. Throws STAVILY_ERR_WORKFLOW_INVALID (every issue
 * in `data.issues`) and saves nothing when the document is invalid. `enabled` in the
 * document sets the workflow's state; without it, a new workflow is enabled and an existing
 * one keeps its state.
 */
export async function applyWorkflow(
  sql: SqlClient,
  org: string,
  source: string,
  options: { actor?: string | null } = {},
): Promise<ApplyResult> {
  const orgId = checkOrg(org)
  const parsed = parseWorkflow(source)
  if (!parsed.ok) throw invalidWorkflow(parsed.issues)
  const { workflow, document } = parsed
  const actor = options.actor ?? null
  return sql.transaction(async (tx) => {
    const fresh = randomUUID()
    const inserted = await exec(tx, insertWorkflow(fresh, orgId, workflow.name, document.enabled ?? true))
    if (inserted.rows.length > 0) {
      await exec(tx, insertVersion(fresh, 1, source, workflow, actor))
      return {
        id: fresh,
        name: workflow.name,
        version: 1,
        created: true,
        changed: true,
        enabled: document.enabled ?? true,
      }
    }
    const row = (
      await exec<{ id: string; enabled: boolean; currentVersion: number }>(
        tx,
        lockWorkflow(orgId, workflow.name),
      )
    ).rows[0]!
    const enabled = document.enabled ?? row.enabled
    const current = (await exec<{ definition: unknown }>(tx, currentDefinition(row.id, row.currentVersion)))
      .rows[0]
    if (current && sameDefinition(current.definition, workflow)) {
      if (enabled !== row.enabled) await exec(tx, setCurrent(row.id, row.currentVersion, enabled))
      return {
        id: row.id,
        name: workflow.name,
        version: row.currentVersion,
        created: false,
        changed: false,
        enabled,
      }
    }
    const version = row.currentVersion + 1
    await exec(tx, insertVersion(row.id, version, source, workflow, actor))
    await exec(tx, setCurrent(row.id, version, enabled))
    return { id: row.id, name: workflow.name, version, created: false, changed: true, enabled }
  })
}

export async function listWorkflowSummaries(sql: SqlClient, org: string): Promise<WorkflowSummary[]> {
  const { rows } = await exec<Record<string, unknown>>(sql, listWorkflows(checkOrg(org)))
  return rows.map(summary)
}

/** A workflow at its current version, or at `version`; undefined when either does not exist. */
export async function getStoredWorkflow(
  sql: SqlClient,
  org: string,
  name: string,
  version?: number,
): Promise<StoredWorkflow | undefined> {
  const { rows } = await exec<Record<string, unknown>>(sql, getWorkflow(checkOrg(org), name, version ?? null))
  const r = rows[0]
  if (!r) return undefined
  return {
    ...summary(r),
    shownVersion: r.shownVersion as number,
    workflow: { ...(r.definition as Workflow), enabled: r.enabled as boolean },
    source: r.source as string,
    createdBy: (r.createdBy as string | null) ?? null,
    versionCreatedAt: iso(r.versionCreatedAt),
  }
}

/** The definition a run started on, by workflow id and version. */
export async function getWorkflowVersion(
  sql: SqlClient,
  org: string,
  workflowId: string,
  version: number,
): Promise<Workflow | undefined> {
  const { rows } = await exec<{ definition: Workflow }>(
    sql,
    getVersionById(checkOrg(org), workflowId, version),
  )
  return rows[0]?.definition
}

export async function listWorkflowVersions(
  sql: SqlClient,
  org: string,
  name: string,
): Promise<{ version: number; createdBy: string | null; createdAt: string }[]> {
  const { rows } = await exec<{ version: number; createdBy: string | null; createdAt: unknown }>(
    sql,
    listVersions(checkOrg(org), name),
  )
  return rows.map((r) => ({ version: r.version, createdBy: r.createdBy, createdAt: iso(r.createdAt) }))
}

/** Enables or disables a workflow without a new version; false when there is no such workflow. */
export async function setWorkflowEnabled(
  sql: SqlClient,
  org: string,
  name: string,
  enabled: boolean,
): Promise<boolean> {
  const { rows } = await exec(sql, setEnabled(checkOrg(org), name, enabled))
  return rows.length > 0
}

/** The enabled workflows whose trigger is of this kind, at their current versions. */
export async function enabledWorkflows(
  sql: SqlClient,
  org: string,
  kind: Workflow['trigger']['kind'],
): Promise<{ id: string; version: number; workflow: Workflow }[]> {
  const { rows } = await exec<{ id: string; version: number; definition: Workflow }>(
    sql,
    enabledByTrigger(checkOrg(org), kind),
  )
  return rows.map((r) => ({ id: r.id, version: r.version, workflow: { ...r.definition, enabled: true } }))
}

function summary(r: Record<string, unknown>): WorkflowSummary {
  return {
    id: r.id as string,
    name: r.name as string,
    enabled: r.enabled as boolean,
    version: r.version as number,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  }
}
