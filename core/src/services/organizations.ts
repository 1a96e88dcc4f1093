import type PgBoss from 'pg-boss'
import { checkName } from '../checks.ts'
import * as plans from '../db/plans/organizations.ts'
import { type Database, run, type SqlClient } from '../db/sql-client.ts'
import { LIMITS } from '../defaults.ts'
import { scheduleQueue } from '../engine/schedules.ts'
import { invalid, StavilyError } from '../errors.ts'
import { instructionQueue } from '../queue/queue-names.ts'

// Organizations as the instance admin manages them: list, rename, delete. Creation lives in
// tenancy.ts (it mints the first admin token). Each change runs in one transaction that the
// caller's `audit` joins, so the change and its audit entry commit together.

export type OrganizationSummary = {
  id: string
  name: string
  createdAt: Date
  /** Agents that are not revoked. */
  agents: number
  workflows: number
}

type Audit = (tx: SqlClient, data: Record<string, unknown>) => Promise<unknown>

export class Organizations {
  readonly #db: Database

  constructor(db: Database) {
    this.#db = db
  }

  async list(): Promise<OrganizationSummary[]> {
    return (await run<OrganizationSummary>(this.#db.sql, plans.listOrganizations())).rows
  }

  async rename(id: string, name: string, audit: Audit): Promise<OrganizationSummary> {
    checkName('name', name, LIMITS.organizationNameMax)
    return this.#db.sql.transaction(async (tx) => {
      const org = await this.#locked(tx, id)
      if (org.name === name) return org
      if ((await run(tx, plans.renameOrganization(id, name))).rows.length === 0)
        throw invalid('name', 'a name no other organization has', name)
      await audit(tx, { from: org.name, to: name })
      return { ...org, name }
    })
  }

  /**
   * Deletes an organization with everything in it. Refused while it has agents (not
   * revoked) or workflows unless `force`; never the caller's own organization. Plugin names
   * it published move to `callerOrg`: a name is never freed for another publisher to take.
   */
  async delete(
    id: string,
    opts: { force: boolean; callerOrg: string },
    audit: Audit,
  ): Promise<
    OrganizationSummary & { pluginNamesMoved: string[]; workflowIds: string[]; agentIds: string[] }
  > {
    // A writer that took its locks in another order (its workflow's row, then the
    // organization's) can deadlock with this; PostgreSQL ends one of the two, and when it
    // is this one the whole delete runs again (it changed nothing: one transaction).
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#delete(id, opts, audit)
      } catch (err) {
        if ((err as { code?: string }).code !== '40P01' || attempt >= LIMITS.deleteDeadlockRetries) throw err
      }
    }
  }

  #delete(
    id: string,
    opts: { force: boolean; callerOrg: string },
    audit: Audit,
  ): Promise<
    OrganizationSummary & { pluginNamesMoved: string[]; workflowIds: string[]; agentIds: string[] }
  > {
    return this.#db.sql.transaction(async (tx) => {
      const org = await this.#locked(tx, id)
      if (org.id === opts.callerOrg)
        throw new StavilyError(
          'STAVILY_ERR_ORGANIZATION_NOT_EMPTY',
          `organization ${org.name}: is the organization of the token making this request; delete it with the admin token of another organization`,
        )
      if (!opts.force && (org.agents > 0 || org.workflows > 0))
        throw new StavilyError(
          'STAVILY_ERR_ORGANIZATION_NOT_EMPTY',
          `organization ${org.name}: still has ${org.agents} agent(s) and ${org.workflows} workflow(s); revoke and remove them first, or delete with force (stavily org delete ${org.name} --force) to delete them with it`,
          { data: { agents: org.agents, workflows: org.workflows } },
        )
      const moved = (await run<{ name: string }>(tx, plans.movePluginNames(id, opts.callerOrg))).rows.map(
        (r) => r.name,
      )
      const workflowIds = (await run<{ id: string }>(tx, plans.organizationWorkflowIds(id))).rows.map(
        (r) => r.id,
      )
      const agentIds = (await run<{ id: string }>(tx, plans.organizationAgentIds(id))).rows.map((r) => r.id)
      // Tables without a foreign key to organizations (runs, pool_changes) are emptied by
      // name; the rest go with the organization's row (cascade). The audit chain stays. No
      // writer can add a row behind this: the organization's row is locked above, and every
      // writer of an organization's rows holds a key-share lock on it through its foreign key
      // until it commits (runs through their workflow's), so a writer in flight commits
      // before this reads, and a later one fails its reference (migration 8).
      const tables = (await run<{ table: string }>(tx, plans.organizationTables())).rows
      for (const { table } of tables) {
        if (!/^[a-z_][a-z0-9_]*$/.test(table)) continue
        await tx.query(`DELETE FROM "${table}" WHERE org_id = $1`, [id])
      }
      await run(tx, plans.deleteOrganization(id))
      await audit(tx, {
        name: org.name,
        force: opts.force,
        agents: org.agents,
        workflows: org.workflows,
        pluginNamesMoved: moved,
      })
      return { ...org, pluginNamesMoved: moved, workflowIds, agentIds }
    })
  }

  /**
   * After a delete committed: the organization's pg-boss queues go too (its instruction
   * queues, one per kind and pool, and a schedule queue per workflow, whose schedule pg-boss
   * removes with it), so no cron keeps firing and no queue partition stays behind. Rows first,
   * then queues: a writer the delete waited for has committed by now, and any later one
   * fails its reference to the organization, so nothing refills these queues.
   */
  async removeQueues(boss: PgBoss, orgId: string, workflowIds: readonly string[]): Promise<string[]> {
    const schedules = new Set(workflowIds.map(scheduleQueue))
    const prefixes = (['sensor', 'action'] as const).map((kind) => instructionQueue(orgId, kind, ''))
    const names = (await boss.getQueues())
      .map((q) => q.name)
      .filter((name) => schedules.has(name) || prefixes.some((p) => name.startsWith(p)))
    for (const name of names) {
      await boss.unschedule(name)
      await boss.deleteQueue(name)
    }
    return names
  }

  async #locked(tx: SqlClient, id: string): Promise<OrganizationSummary> {
    const org = (await run<OrganizationSummary>(tx, plans.organizationForUpdate(id))).rows[0]
    if (!org) throw new StavilyError('STAVILY_ERR_NOT_FOUND', `organization ${id}: not found`)
    return org
  }
}
