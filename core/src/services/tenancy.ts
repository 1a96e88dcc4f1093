import { randomUUID } from 'node:crypto'
import { hashSecret, newSecret, secretKind } from '../auth/secrets.ts'
import {
  checkFutureTime,
  checkInt,
  checkKind,
  checkLabels,
  checkName,
  checkPool,
  checkRole,
  isoTime,
} from '../checks.ts'
import type { Tuning } from '../config.ts'
import * as plans from '../db/plans/tenancy.ts'
import { type Database, run, type SqlClient } from '../db/sql-client.ts'
import { LIMITS } from '../defaults.ts'
import { invalid, StavilyError } from '../errors.ts'
import type { AgentKind, ApiPrincipal, Role } from '../types.ts'

// Organizations, operator API tokens and enrollment tokens. Secrets are returned once, at
// creation; only their hashes are stored.

export type Organization = {
  id: string
  name: string
  createdAt: Date
}

export class Tenancy {
  readonly #db: Database
  readonly #tuning: Tuning
  readonly #lastTouched = new Map<string, number>()

  constructor(db: Database, tuning: Tuning) {
    this.#db = db
    this.#tuning = tuning
  }

  /**
   * Creates an organization and its first admin token (shown once). The bootstrap's token
   * is also the instance admin's; an organization created later gets an organization admin.
   */
  async createOrganization(
    name: string,
    adminToken?: string,
    opts: {
      instanceAdmin?: boolean
      /** Records the creation on the audit log inside the creating transaction (a crash keeps both or neither). */
      audit?: (
        tx: SqlClient,
        created: { organization: Organization; adminTokenId: string },
      ) => Promise<unknown>
    } = {},
  ): Promise<{ organization: Organization; adminToken: string; adminTokenId: string }> {
    checkName('name', name, LIMITS.organizationNameMax)
    const token = adminToken ?? newSecret('admin')
    return this.#db.sql.transaction(async (tx) => {
      const { rows } = await run<Organization>(tx, plans.insertOrganization(randomUUID(), name))
      if (!rows[0]) throw invalid('name', 'a name no other organization has', name)
      const adminTokenId = randomUUID()
      await run(
        tx,
        plans.insertApiToken({
          id: adminTokenId,
          orgId: rows[0].id,
          name: opts.instanceAdmin ? 'bootstrap admin' : 'first admin',
          role: 'admin',
          hash: hashSecret(token),
          instanceAdmin: opts.instanceAdmin === true,
        }),
      )
      await opts.audit?.(tx, { organization: rows[0], adminTokenId })
      return { organization: rows[0], adminToken: token, adminTokenId }
    })
  }

  async organizationByName(name: string): Promise<Organization | undefined> {
    return (await run<Organization>(this.#db.sql, plans.organizationByName(name))).rows[0]
  }

  /**
   * First start of an empty database: creates the `default` organization with an admin
   * token (the configured one, else a generated one that the caller prints once).
   */
  async bootstrap(
    configured?: string,
  ): Promise<{ organization: Organization; adminToken: string } | undefined> {
    const { rows } = await run<{ count: number }>(this.#db.sql, plans.countOrganizations())
    if (rows[0]!.count > 0) return undefined
    try {
      return await this.createOrganization('default', configured, { instanceAdmin: true })
    } catch (err) {
      // Another instance bootstrapped at the same moment.
      if (err instanceof StavilyError && err.code === 'STAVILY_ERR_INVALID_ARGUMENT') return undefined
      throw err
    }
  }

  /** An API token of the organization; `expiresAt` (optional) must lie in the future. */
  async createApiToken(orgId: string, input: { name: string; role: Role; expiresAt?: string | undefined }) {
    const name = checkName('name', input.name, LIMITS.tokenNameMax)
    const role = checkRole('role', input.role)
    const expiresAt = input.expiresAt === undefined ? null : checkFutureTime('expiresAt', input.expiresAt)
    const token = newSecret('api')
    const { rows } = await run<{
      id: string
      name: string
      role: Role
      createdAt: Date
      expiresAt: Date | null
    }>(
      this.#db.sql,
      plans.insertApiToken({ id: randomUUID(), orgId, name, role, hash: hashSecret(token), expiresAt }),
    )
    return { ...rows[0]!, token }
  }

  /**
   * The principal of an API token; undefined for an unknown or revoked one. An expired
   * token is refused with its own message, so its holder knows to ask for a new one.
   * Its last use is recorded at most once per `tokenLastUsedWriteMs` on this instance.
   */
  async authenticateApiToken(token: string): Promise<ApiPrincipal | undefined> {
    const kind = secretKind(token)
    if (kind !== 'api' && kind !== 'admin') return undefined
    const { rows } = await run<{
      id: string
      orgId: string
      role: Role
      instanceAdmin: boolean
      expiresAt: Date | null
      expired: boolean
    }>(this.#db.sql, plans.apiTokenByHash(hashSecret(token)))
    const r = rows[0]
    if (!r) return undefined
    if (r.expired)
      throw new StavilyError(
        'STAVILY_ERR_TOKEN_EXPIRED',
        `authorization: this API token expired at ${isoTime(r.expiresAt)}; ask an admin for a new one (stavily token create)`,
        { data: { field: 'authorization' } },
      )
    await this.#touch(r.id)
    return { tokenId: r.id, orgId: r.orgId, role: r.role, instanceAdmin: r.instanceAdmin }
  }

  // Last use to the minute: a write per token per interval, not per request. The map is
  // bounded: past its size it starts over (a few extra writes, never a missed minute).
  async #touch(tokenId: string): Promise<void> {
    const now = Date.now()
    const last = this.#lastTouched.get(tokenId)
    if (last !== undefined && now - last < this.#tuning.tokenLastUsedWriteMs) return
    if (this.#lastTouched.size >= LIMITS.tokenLastUsedCacheMax) this.#lastTouched.clear()
    this.#lastTouched.set(tokenId, now)
    await run(this.#db.sql, plans.touchApiToken(tokenId))
  }

  async createEnrollmentToken(
    orgId: string,
    input: {
      kind: AgentKind
      pool: string
      labels?: Record<string, string>
      ttlSeconds?: number
      uses?: number
    },
  ) {
    const kind = checkKind('kind', input.kind)
    const pool = checkPool('pool', input.pool)
    const labels = checkLabels('labels', input.labels)
    const ttlSeconds = checkInt(
      'ttlSeconds',
      input.ttlSeconds ?? this.#tuning.enrollmentTtlSeconds,
      60,
      this.#tuning.enrollmentTtlMaxSeconds,
    )
    const uses = checkInt('uses', input.uses ?? this.#tuning.enrollmentUses, 1, LIMITS.enrollmentUsesMax)
    const token = newSecret('enroll')
    const { rows } = await run<{
      id: string
      kind: AgentKind
      pool: string
      labels: Record<string, string>
      expiresAt: Date
      usesLeft: number
    }>(
      this.#db.sql,
      plans.insertEnrollmentToken({
        id: randomUUID(),
        orgId,
        hash: hashSecret(token),
        kind,
        pool,
        labels,
        ttlSeconds,
        uses,
      }),
    )
    return { ...rows[0]!, token }
  }
}
