import semver from 'semver'
import { checkOrg, isoTime as iso, isUuid } from '../checks.ts'
import { type Database, run } from '../db/sql-client.ts'
import { invalid, StavilyError } from '../errors.ts'
import type { Dispatcher } from '../queue/dispatcher.ts'
import { instructionQueue } from '../queue/queue-names.ts'
import type { AuditLog } from '../services/audit-log.ts'
import {
  applyWorkflow,
  type DryRunResult,
  dryRun,
  getStoredWorkflow,
  listWorkflowVersions,
  loadWorkflow,
  type StepResult,
  setWorkflowEnabled,
  type Workflow,
  type WorkflowEvent,
} from '../workflows/index.ts'
import * as plans from './plans.ts'
import type { Schedules } from './schedules.ts'
import type { Actor } from './types.ts'

// Workflows for the operator API and the CLI: apply a document, read, list versions,
// enable or disable, dry-run. Every change is audited in its own transaction and keeps
// schedules and sensor assignments in step.

export interface WorkflowSummary {
  id: string
  name: string
  enabled: boolean
  version: number
  triggerKind: 'sensor' | 'webhook' | 'schedule'
  createdAt: string
  updatedAt: string
  /** For webhook workflows: where senders POST (`/api/v1/hooks/<id>`). */
  hookPath?: string
}

export interface WorkflowDetail extends WorkflowSummary {
  /** The version shown (the current one unless another was asked for). */
  shownVersion: number
  /** The document as applied (YAML or JSON text). */
  document: string
  definition: Workflow
  createdBy: string | null
  versionCreatedAt: string
}

export type DryRunEvent =
  | { data: unknown; type?: string; source?: string }
  /** A stored sensor event. */
  | { eventId: string }
  /** The event a run started with. */
  | { runId: string }

const actorText = (a: Actor) => `${a.type}:${a.id ?? '-'}`

function summary(r: Record<string, unknown>): WorkflowSummary {
  const s: WorkflowSummary = {
    id: r.id as string,
    name: r.name as string,
    enabled: r.enabled as boolean,
    version: r.version as number,
    triggerKind: r.triggerKind as WorkflowSummary['triggerKind'],
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  }
  if (s.triggerKind === 'webhook') s.hookPath = `/api/v1/hooks/${s.id}`
  return s
}

export class WorkflowService {
  readonly #db: Database
  readonly #audit: AuditLog
  readonly #schedules: Schedules

  readonly #dispatcher: Dispatcher

  constructor(db: Database, audit: AuditLog, schedules: Schedules, dispatcher: Dispatcher) {
    this.#db = db
    this.#audit = audit
    this.#schedules = schedules
    this.#dispatcher = dispatcher
  }

  /**
   * Creates or updates a workflow from a YAML or JSON document (by its name). A new version
   * is saved only when the definition changed. Warns (without refusing) about plugins not
   * enabled in a step's pool at a version the step's range allows.
   * Throws STAVILY_ERR_WORKFLOW_INVALID (400) naming every problem.
   */
  async apply(
    orgId: string,
    documentText: string,
    actor: Actor,
  ): Promise<{
    workflow: WorkflowSummary
    version: number
    changed: boolean
    created: boolean
    warnings: string[]
  }> {
    const org = checkOrg(orgId, undefined, 'orgId')
    if (typeof documentText !== 'string') throw invalid('document', 'the workflow as YAML or JSON text')
    const definition = loadWorkflow(documentText)
    // The engine enqueues steps inside its transactions, where queues cannot be created.
    for (const pool of new Set([...definition.actions, ...definition.outputs].map((s) => s.pool)))
      await this.#dispatcher.ensureQueue(instructionQueue(org, 'action', pool))
    const result = await this.#db.sql.transaction(async (tx) => {
      const applied = await applyWorkflow(tx, org, documentText, { actor: actorText(actor) })
      if (applied.changed || applied.created) {
        await this.#audit.record(
          {
            org,
            actor: { type: actor.type, id: actor.id },
            action: applied.created ? 'workflow.created' : 'workflow.applied',
            target: { type: 'workflow', id: applied.id },
            data: { name: applied.name, version: applied.version, enabled: applied.enabled },
            ip: actor.ip ?? null,
          },
          tx,
        )
      }
      if (definition.trigger.kind === 'sensor') await run(tx, plans.touchPool(org, definition.trigger.pool))
      return applied
    })
    await this.#syncSchedule(org, result.id, result.enabled ? definition : null)
    return {
      workflow: await this.#summary(org, result.id),
      version: result.version,
      changed: result.changed,
      created: result.created,
      warnings: await this.#warnings(org, definition),
    }
  }

  /** Every workflow of the organization, by name. */
  async list(orgId: string): Promise<WorkflowSummary[]> {
    return (await run(this.#db.sql, plans.workflowSummaries(checkOrg(orgId, undefined, 'orgId')))).rows.map(
      summary,
    )
  }

  /** One workflow by id or name, at its current version or at `version`; STAVILY_ERR_WORKFLOW_NOT_FOUND (404) otherwise. */
  async get(orgId: string, idOrName: string, version?: number): Promise<WorkflowDetail> {
    const org = checkOrg(orgId, undefined, 'orgId')
    const s = await this.#summaryOf(org, idOrName)
    const stored = await getStoredWorkflow(this.#db.sql, org, s.name, version)
    if (!stored)
      throw new StavilyError('STAVILY_ERR_WORKFLOW_NOT_FOUND', `workflow ${s.name}: no version ${version}`, {
        data: { field: 'version' },
      })
    return {
      ...s,
      shownVersion: stored.shownVersion,
      document: stored.source,
      definition: stored.workflow,
      createdBy: stored.createdBy,
      versionCreatedAt: stored.versionCreatedAt,
    }
  }

  /** The saved versions, newest first. */
  async versions(
    orgId: string,
    idOrName: string,
  ): Promise<{ version: number; createdBy: string | null; createdAt: string }[]> {
    const org = checkOrg(orgId, undefined, 'orgId')
    const s = await this.#summaryOf(org, idOrName)
    return listWorkflowVersions(this.#db.sql, org, s.name)
  }

  /** Enables or disables a workflow without a new version; audited as workflow.enabled / workflow.disabled. */
  async setEnabled(
    orgId: string,
    idOrName: string,
    enabled: boolean,
    actor: Actor,
  ): Promise<WorkflowSummary> {
    const org = checkOrg(orgId, undefined, 'orgId')
    const s = await this.#summaryOf(org, idOrName)
    const definition = (await this.get(org, s.id)).definition
    await this.#db.sql.transaction(async (tx) => {
      await setWorkflowEnabled(tx, org, s.name, enabled)
      await this.#audit.record(
        {
          org,
          actor: { type: actor.type, id: actor.id },
          action: enabled ? 'workflow.enabled' : 'workflow.disabled',
          target: { type: 'workflow', id: s.id },
          data: { name: s.name },
          ip: actor.ip ?? null,
        },
        tx,
      )
      if (definition.trigger.kind === 'sensor') await run(tx, plans.touchPool(org, definition.trigger.pool))
    })
    await this.#syncSchedule(org, s.id, enabled ? definition : null)
    return this.#summary(org, s.id)
  }

  /**
   * What a workflow would do with an event, running nothing: a saved workflow (id or name)
   * or an unsaved `{ document }`. The event is supplied, a stored sensor event (`{ eventId }`)
   * or the event a run started with (`{ runId }`).
   */
  async dryRun(
    orgId: string,
    workflow: string | { document: string },
    event: DryRunEvent,
    steps?: Record<string, Partial<StepResult>>,
  ): Promise<DryRunResult> {
    const org = checkOrg(orgId, undefined, 'orgId')
    const definition =
      typeof workflow === 'string'
        ? (await this.get(org, workflow)).definition
        : loadWorkflow(workflow.document)
    return dryRun(definition, await this.#event(org, event), steps ? { stepResults: steps } : {})
  }

  async #event(org: string, e: DryRunEvent): Promise<WorkflowEvent> {
    if (e && typeof e === 'object' && 'eventId' in e) {
      if (!isUuid(e.eventId))
        throw new StavilyError(
          'STAVILY_ERR_NOT_FOUND',
          `event.eventId: no such event ${JSON.stringify(e.eventId)}`,
          {
            data: { field: 'event.eventId' },
          },
        )
      const r = (await run<Record<string, unknown>>(this.#db.sql, plans.recordedEvent(org, e.eventId)))
        .rows[0]
      if (!r)
        throw new StavilyError('STAVILY_ERR_NOT_FOUND', `event.eventId: no such event ${e.eventId}`, {
          data: { field: 'event.eventId' },
        })
      return {
        source: r.source as string,
        type: r.type as string,
        data: r.data,
        dedupeKey: r.dedupeKey as string,
        occurredAt: iso(r.occurredAt),
      }
    }
    if (e && typeof e === 'object' && 'runId' in e) {
      const r = isUuid(e.runId)
        ? (
            await run<{ event: WorkflowEvent }>(this.#db.sql, {
              text: 'SELECT event FROM runs WHERE org_id = $1 AND id = $2',
              values: [org, e.runId],
            })
          ).rows[0]
        : undefined
      if (!r)
        throw new StavilyError('STAVILY_ERR_RUN_NOT_FOUND', `event.runId: no such run ${e.runId}`, {
          data: { field: 'event.runId' },
        })
      return r.event
    }
    if (!e || typeof e !== 'object' || !('data' in e))
      throw invalid('event', '{ data, type?, source? }, { eventId } or { runId }')
    return {
      source: e.source ?? 'dry-run',
      type: e.type ?? 'dry-run',
      data: e.data,
      occurredAt: new Date().toISOString(),
    }
  }

  async #summaryOf(org: string, idOrName: string): Promise<WorkflowSummary> {
    if (typeof idOrName !== 'string' || idOrName.length === 0) throw invalid('workflow', 'an id or a name')
    const r = (await run(this.#db.sql, plans.workflowSummary(org, idOrName, isUuid(idOrName)))).rows[0]
    if (!r)
      throw new StavilyError(
        'STAVILY_ERR_WORKFLOW_NOT_FOUND',
        `workflow ${idOrName}: not found in this organization`,
      )
    return summary(r)
  }

  #summary(org: string, id: string): Promise<WorkflowSummary> {
    return this.#summaryOf(org, id)
  }

  async #syncSchedule(org: string, id: string, definition: Workflow | null): Promise<void> {
    const t = definition?.trigger
    await this.#schedules.sync(org, id, t && t.kind === 'schedule' ? t : null)
  }

  // Plugins the workflow needs that its pools have not enabled (or not at a matching version).
  async #warnings(org: string, w: Workflow): Promise<string[]> {
    const needs: { what: string; plugin: string; pool: string; range: string }[] = [
      ...[...w.actions, ...w.outputs].map((s) => ({
        what: `step ${s.id}`,
        plugin: s.plugin,
        pool: s.pool,
        range: s.version,
      })),
      ...(w.trigger.kind === 'sensor'
        ? [{ what: 'trigger', plugin: w.trigger.plugin, pool: w.trigger.pool, range: w.trigger.version }]
        : []),
    ]
    const warnings: string[] = []
    for (const n of needs) {
      const v = (await run<{ version: string }>(this.#db.sql, plans.desiredVersions(org, n.pool, [n.plugin])))
        .rows[0]?.version
      const fix = `stavily plugin enable ${n.plugin} --pool ${n.pool} --range "${n.range}"`
      if (v === undefined)
        warnings.push(`${n.what}: plugin ${n.plugin} is not enabled in pool ${n.pool}; run \`${fix}\``)
      else if (!semver.satisfies(v, n.range, { includePrerelease: true }))
        warnings.push(
          `${n.what}: pool ${n.pool} has ${n.plugin} ${v}, outside the range ${n.range}; run \`${fix}\``,
        )
    }
    return warnings
  }
}
