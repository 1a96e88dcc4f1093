import { randomUUID } from 'node:crypto'
import { hashSecret, newSecret, secretKind } from '../auth/secrets.ts'
import { checkLabels, checkName } from '../checks.ts'
import type { Tuning } from '../config.ts'
import * as plans from '../db/plans/agents.ts'
import { spendEnrollmentToken } from '../db/plans/tenancy.ts'
import { type Database, run } from '../db/sql-client.ts'
import { StavilyError } from '../errors.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { announceAgentRevoked } from '../fleet/revocations.ts'
import type { Agent, AgentKind } from '../types.ts'
import { normalizeGrants, type SecretGrants } from './secret-grants.ts'

// Agents: enrollment (an enrollment token exchanged for a credential), authentication,
// heartbeats, credential rotation and revocation, and the lost-agent sweep.

export type DesiredPlugin = {
  name: string
  version: string
  digest: string
  signature: string
  permissions: unknown
}

export class Agents {
  readonly #db: Database
  readonly #fleet: FleetState
  readonly #tuning: Tuning
  readonly #startedAt = Date.now()

  constructor(db: Database, fleet: FleetState, tuning: Tuning) {
    this.#db = db
    this.#fleet = fleet
    this.#tuning = tuning
  }

  /** Exchanges an enrollment token for an agent and its credential (shown once). */
  async register(input: {
    enrollmentToken: string
    name: string
    labels?: Record<string, string>
    version?: string
    secretGrants?: SecretGrants
  }) {
    const name = checkName('name', input.name, 200)
    const extraLabels = checkLabels('labels', input.labels)
    if (secretKind(input.enrollmentToken) !== 'enroll') throw enrollmentInvalid()
    const credential = newSecret('agent')
    const agent = await this.#db.sql.transaction(async (tx) => {
      const { rows } = await run<{
        id: string
        orgId: string
        kind: AgentKind
        pool: string
        labels: Record<string, string>
      }>(tx, spendEnrollmentToken(hashSecret(input.enrollmentToken)))
      const token = rows[0]
      if (!token) throw enrollmentInvalid()
      // Labels bound to the token win over labels the agent claims for itself.
      const labels = { ...extraLabels, ...token.labels }
      const created = await run<Agent>(
        tx,
        plans.insertAgent({
          id: randomUUID(),
          orgId: token.orgId,
          name,
          kind: token.kind,
          pool: token.pool,
          labels,
          version: input.version ?? null,
          hash: hashSecret(credential),
          enrolledWith: token.id,
          secretGrants: input.secretGrants ? normalizeGrants(input.secretGrants) : null,
        }),
      )
      return created.rows[0]!
    })
    await this.#fleet.touch(agent.id, this.#tuning.lostAfterMs)
    return { agent, credential }
  }

  async authenticate(credential: string): Promise<Agent | undefined> {
    if (secretKind(credential) !== 'agent') return undefined
    return (await run<Agent>(this.#db.sql, plans.agentByCredential(hashSecret(credential)))).rows[0]
  }

  async heartbeat(
    agent: Agent,
    version: string | undefined,
    secretGrants?: SecretGrants,
  ): Promise<{ drain: boolean }> {
    const { rows } = await run<{ drain: boolean }>(
      this.#db.sql,
      plans.touchAgent(agent.id, version ?? null, secretGrants ? normalizeGrants(secretGrants) : null),
    )
    if (!rows[0]) throw revoked()
    await this.#fleet.touch(agent.id, this.#tuning.lostAfterMs)
    return rows[0]
  }

  /** Issues a new credential; the old one stops working at once. */
  async rotate(agent: Agent): Promise<string> {
    const credential = newSecret('agent')
    const { rows } = await run(this.#db.sql, plans.rotateCredential(agent.id, hashSecret(credential)))
    if (rows.length === 0) throw revoked()
    // Polls parked with the old credential end now, on every instance.
    await announceAgentRevoked(this.#fleet, agent.id)
    return credential
  }

  async revoke(orgId: string, id: string): Promise<Agent> {
    const { rows } = await run<Agent>(this.#db.sql, plans.revokeAgent(orgId, id))
    if (!rows[0]) throw new StavilyError('STAVILY_ERR_NOT_FOUND', `agent ${id}: not found`)
    await this.#fleet.forget(id)
    // Its parked polls end now, on every instance (the claim refuses them anyway).
    await announceAgentRevoked(this.#fleet, id)
    return rows[0]
  }

  async setDrain(orgId: string, id: string, drain: boolean): Promise<Agent> {
    const { rows } = await run<Agent>(this.#db.sql, plans.setDrain(orgId, id, drain))
    if (!rows[0]) throw new StavilyError('STAVILY_ERR_NOT_FOUND', `agent ${id}: not found`)
    return rows[0]
  }

  async list(orgId: string): Promise<Agent[]> {
    return (await run<Agent>(this.#db.sql, plans.listAgents(orgId))).rows
  }

  async desiredPlugins(agent: Agent): Promise<DesiredPlugin[]> {
    return (await run<DesiredPlugin>(this.#db.sql, plans.desiredPlugins(agent.orgId, agent.pool))).rows
  }

  async countByStatus() {
    return (await run<{ status: string; count: number }>(this.#db.sql, plans.countAgentsByStatus())).rows
  }

  /**
   * Marks agents lost whose presence expired (named by the fleet sweeper) or, as the
   * fallback for a fleet store that lost its state, whose last heartbeat is too old.
   * Nothing is marked lost during the grace period after this instance started.
   */
  async sweepLost(fullScan: boolean): Promise<string[]> {
    const expired = await this.#fleet.sweepExpired(1_000)
    if (Date.now() - this.#startedAt < this.#tuning.restartGraceMs) return []
    const lost = new Set<string>()
    if (expired.length > 0) {
      for (const r of (
        await run<{ id: string }>(this.#db.sql, plans.markLost(this.#tuning.lostAfterMs, expired))
      ).rows)
        lost.add(r.id)
    }
    if (fullScan) {
      for (const r of (
        await run<{ id: string }>(this.#db.sql, plans.markLost(this.#tuning.lostAfterMs, null))
      ).rows)
        lost.add(r.id)
    }
    return [...lost]
  }
}

function enrollmentInvalid(): StavilyError {
  return new StavilyError(
    'STAVILY_ERR_ENROLLMENT_INVALID',
    'enrollmentToken: not valid (unknown, expired, revoked or used up); ask an operator for a new one',
    { data: { field: 'enrollmentToken' } },
  )
}

function revoked(): StavilyError {
  return new StavilyError('STAVILY_ERR_AGENT_REVOKED', 'this agent credential was revoked; enroll again')
}
