import { type Registry, RegistryError } from '@stavily/registry'
import { type Database, run, type SqlClient, type Statement } from '../db/sql-client.ts'
import { LIMITS } from '../defaults.ts'
import { StavilyError } from '../errors.ts'

// Plugin names are owned. The registry has no organizations, and a pool that follows a range
// rolls out every new version of a name to agents of every organization that enabled it; so
// a name belongs to the organization that first published it (plugin_owners, migration 5),
// and only that organization may publish or yank it. First-party names (@stavily/plugin-*)
// are reserved for the instance's first organization, the one the seed publishes as. An
// admin of the owning organization can hand a name to another organization.

/** Names only the instance's first organization may take: the first-party plugins. */
export const RESERVED_NAME = /^@stavily\/plugin-/

const plans = {
  owner: (name: string): Statement => ({
    text: 'SELECT org_id AS "orgId" FROM plugin_owners WHERE name = $1',
    values: [name],
  }),
  claim: (name: string, orgId: string): Statement => ({
    text: 'INSERT INTO plugin_owners (name, org_id) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING name',
    values: [name, orgId],
  }),
  firstOrg: (): Statement => ({
    text: 'SELECT id FROM organizations ORDER BY created_at, id LIMIT 1',
    values: [],
  }),
  transfer: (name: string, from: string, to: string): Statement => ({
    text: 'UPDATE plugin_owners SET org_id = $3, claimed_at = now() WHERE name = $1 AND org_id = $2 RETURNING name',
    values: [name, from, to],
  }),
  orgByIdOrName: (ref: string): Statement => ({
    text: `SELECT id, name FROM organizations WHERE name = $1 OR id::text = $1 LIMIT 1`,
    values: [ref],
  }),
}

export class PluginNames {
  readonly #db: Database

  constructor(db: Database) {
    this.#db = db
  }

  async owner(name: string, sql: SqlClient = this.#db.sql): Promise<string | undefined> {
    return (await run<{ orgId: string }>(sql, plans.owner(name))).rows[0]?.orgId
  }

  /** Throws 403 unless `orgId` owns `name` or may take it (free, and not reserved for another). */
  async check(orgId: string, name: string, sql: SqlClient = this.#db.sql): Promise<void> {
    const owner = await this.owner(name, sql)
    if (owner === undefined) {
      if (RESERVED_NAME.test(name) && (await this.#firstOrg(sql)) !== orgId)
        throw new RegistryError(
          'STAVILY_ERR_REGISTRY_FORBIDDEN',
          `name: ${name} is reserved for first-party plugins; publish under your own scope, such as @acme/${name.slice('@stavily/'.length)}`,
          { data: { field: 'name', name } },
        )
      return
    }
    if (owner !== orgId) throw notOwner(name)
  }

  /** In the publish's storing transaction: takes a free name, or checks the owner. */
  async claim(orgId: string, name: string, tx: SqlClient): Promise<void> {
    await this.check(orgId, name, tx)
    await run(tx, plans.claim(name, orgId))
    // Two first publishes at once: the loser's insert waited for the winner's and did nothing.
    if ((await this.owner(name, tx)) !== orgId) throw notOwner(name)
  }

  /** Hands `name` from `fromOrg` (which must own it) to another organization (by id or name). */
  async transfer(
    fromOrg: string,
    name: string,
    to: string,
    sql: SqlClient,
  ): Promise<{ orgId: string; orgName: string }> {
    const target = (await run<{ id: string; name: string }>(sql, plans.orgByIdOrName(to))).rows[0]
    if (!target)
      throw new StavilyError('STAVILY_ERR_NOT_FOUND', `to: no organization with id or name "${to}"`, {
        data: { field: 'to' },
      })
    const moved = (await run(sql, plans.transfer(name, fromOrg, target.id))).rows[0]
    if (!moved) {
      const owner = await this.owner(name, sql)
      if (owner === undefined)
        throw new StavilyError('STAVILY_ERR_NOT_FOUND', `name: no published plugin named ${name}`, {
          data: { field: 'name' },
        })
      throw new StavilyError(
        'STAVILY_ERR_FORBIDDEN',
        `name: ${name} belongs to another organization; only its owner can transfer it`,
        { data: { field: 'name' } },
      )
    }
    return { orgId: target.id, orgName: target.name }
  }

  /**
   * At start: registry names with no owner (published before ownership existed without an
   * audit entry, such as the seed's) go to the first organization, so no name stays free
   * for another organization to take over.
   */
  async adoptUnowned(registry: Registry): Promise<number> {
    const first = await this.#firstOrg(this.#db.sql)
    if (!first) return 0
    let adopted = 0
    for (let offset = 0; ; offset += LIMITS.registryPageMax) {
      const page = await registry.list({ limit: LIMITS.registryPageMax, offset })
      for (const p of page) adopted += (await run(this.#db.sql, plans.claim(p.name, first))).rows.length
      if (page.length < LIMITS.registryPageMax) return adopted
    }
  }

  async #firstOrg(sql: SqlClient): Promise<string | undefined> {
    return (await run<{ id: string }>(sql, plans.firstOrg())).rows[0]?.id
  }
}

function notOwner(name: string): RegistryError {
  return new RegistryError(
    'STAVILY_ERR_REGISTRY_FORBIDDEN',
    `name: ${name} belongs to another organization (the one that first published it); publish under your own name, or ask its admins to transfer it (stavily plugin transfer)`,
    { data: { field: 'name', name } },
  )
}
