import { checkName } from '../checks.ts'
import * as plans from '../db/plans/organizations.ts'
import { type Database, run, type SqlClient } from '../db/sql-client.ts'
import { LIMITS } from '../defaults.ts'
import { invalid, StavilyError } from '../errors.ts'

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
  ): Promise<OrganizationSummary & { pluginNamesMoved: string[] }> {
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
      // Tables without a foreign key to organizations (workflows, runs, secrets, the audit
      // chain…) are emptied by name; the rest go with the organization's row (cascade).
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
      return { ...org, pluginNamesMoved: moved }
    })
  }

  async #locked(tx: SqlClient, id: string): Promise<OrganizationSummary> {
    const org = (await run<OrganizationSummary>(tx, plans.organizationForUpdate(id))).rows[0]
    if (!org) throw new StavilyError('STAVILY_ERR_NOT_FOUND', `organization ${id}: not found`)
    return org
  }
}
