import { randomUUID } from 'node:crypto'
import type { LoadedPlugin } from '@stavily/protocol'
import { hashSecret, newSecret, secretKind } from '../auth/secrets.ts'
import { checkLabels, checkName } from '../checks.ts'
import type { Tuning } from '../config.ts'
import * as plans from '../db/plans/agents.ts'
import { spendEnrollmentToken } from '../db/plans/tenancy.ts'
import { type Database, run } from '../db/sql-client.ts'
import { LIMITS } from '../defaults.ts'
import { StavilyError } from '../errors.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { announceAgentChanged, announceAgentRevoked } from '../fleet/revocations.ts'
import type { Agent, AgentKind } from '../types.ts'
import { type AgentChange, agentView } from './agent-view.ts'
import { CredentialCache } from './credential-cache.ts'
import type { LiveStream } from './live-stream.ts'
import { normalizeGrants, type SecretGrants } from './secret-grants.ts'

// Agents: enrollment (an enrollment token exchanged for a credential), authentication,
// heartbeats, credential rotation and revocation, and the lost-agent sweep. Each change an
// operator would see (enrolled, presence, loaded plugins) goes on the organization's live
// stream as an `agent` event carrying the agent as GET /agents shows it.

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
  readonly #stream: LiveStream
  readonly #startedAt = Date.now()
  readonly #credentials: CredentialCache

  constructor(db: Database, fleet: FleetState, tuning: Tuning, stream: LiveStream) {
    this.#db = db
    this.#fleet = fleet
    this.#tuning = tuning
    this.#stream = stream
    this.#credentials = new CredentialCache(fleet, {
      ttlMs: tuning.agentAuthCacheMs,
      maxEntries: LIMITS.agentAuthCacheEntries,
    })
  }

  #announce(agent: Agent, change: AgentChange): void {
    this.#stream.publish(agent.orgId, {
      type: 'agent',
      data: { change, ...agentView(agent, this.#tuning.lostAfterMs) },
    })
  }

  /** Exchanges an enrollment token for an agent and its credential (shown once). */
  async register(input: {
    enrollmentToken: string
    name: string
    labels?: Record<string, string>
    version?: string
    secretGrants?: SecretGrants
  }) {
    const name = checkName('name', input.name, LIMITS.agentNameMax)
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
    this.#announce(agent, 'registered')
    return { agent, credential }
  }

  async authenticate(credential: string): Promise<Agent | undefined> {
    if (secretKind(credential) !== 'agent') return undefined
    const hash = hashSecret(credential)
    const key = hash.toString('hex')
    const known = this.#credentials.get(key)
    if (known) return known
    const mark = this.#credentials.mark()
    const agent = (await run<Agent>(this.#db.sql, plans.agentByCredential(hash))).rows[0]
    if (agent) this.#credentials.set(key, agent, mark)
    return agent
  }

  /**
   * After a change authentication shows: this instance forgets the agent's credential now,
   * the others when the announcement reaches them.
   */
  async #changed(agentId: string, announce: (fleet: FleetState, id: string) => Promise<void>): Promise<void> {
    this.#credentials.forget(agentId)
    await announce(this.#fleet, agentId)
  }

  /** Agents removed with their organization: no instance may still take their credentials. */
  async removed(agentIds: readonly string[]): Promise<void> {
    await Promise.all(agentIds.map((id) => this.#changed(id, announceAgentRevoked)))
  }

  /** Credentials this instance remembers now (see credential-cache.ts). */
  get rememberedCredentials(): number {
    return this.#credentials.size
  }

  async close(): Promise<void> {
    await this.#credentials.close()
  }

  async heartbeat(
    agent: Agent,
    report: { version?: string; secretGrants?: SecretGrants; loadedPlugins?: LoadedPlugin[] },
  ): Promise<{ drain: boolean }> {
    const { rows } = await run<Agent & { cameOnline: boolean; pluginsChanged: boolean }>(
      this.#db.sql,
      plans.touchAgent(
        agent.id,
        report.version ?? null,
        report.secretGrants ? normalizeGrants(report.secretGrants) : null,
        report.loadedPlugins ? sortedPlugins(report.loadedPlugins) : null,
      ),
    )
    const row = rows[0]
    if (!row) throw revoked()
    await this.#fleet.touch(agent.id, this.#tuning.lostAfterMs)
    if (row.cameOnline) this.#announce(row, 'presence')
    else if (row.pluginsChanged) this.#announce(row, 'plugins')
    return { drain: row.drain }
  }

  /**
   * Issues a new credential for the one `presented`, which stops working at once. Refused
   * for a credential already rotated away (an instance may still remember it for a moment).
   */
  async rotate(agent: Agent, presented: string): Promise<string> {
    const credential = newSecret('agent')
    const { rows } = await run(
      this.#db.sql,
      plans.rotateCredential(agent.id, hashSecret(presented), hashSecret(credential)),
    )
    if (rows.length === 0) throw replacedOrRevoked()
    // Polls parked with the old credential end now, on every instance.
    await this.#changed(agent.id, announceAgentRevoked)
    return credential
  }

  async revoke(orgId: string, id: string): Promise<Agent> {
    const { rows } = await run<Agent>(this.#db.sql, plans.revokeAgent(orgId, id))
    if (!rows[0]) throw new StavilyError('STAVILY_ERR_NOT_FOUND', `agent ${id}: not found`)
    await this.#fleet.forget(id)
    // Its parked polls end now, on every instance (the claim refuses them anyway).
    await this.#changed(id, announceAgentRevoked)
    this.#announce(rows[0], 'presence')
    return rows[0]
  }

  async setDrain(orgId: string, id: string, drain: boolean): Promise<Agent> {
    const { rows } = await run<Agent>(this.#db.sql, plans.setDrain(orgId, id, drain))
    if (!rows[0]) throw new StavilyError('STAVILY_ERR_NOT_FOUND', `agent ${id}: not found`)
    await this.#changed(id, announceAgentChanged)
    this.#announce(rows[0], 'presence')
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
    const expired = await this.#fleet.sweepExpired(LIMITS.presenceSweepBatch)
    if (Date.now() - this.#startedAt < this.#tuning.restartGraceMs) return []
    const lost = new Map<string, Agent>()
    if (expired.length > 0) {
      for (const a of (await run<Agent>(this.#db.sql, plans.markLost(this.#tuning.lostAfterMs, expired)))
        .rows)
        lost.set(a.id, a)
    }
    if (fullScan) {
      for (const a of (await run<Agent>(this.#db.sql, plans.markLost(this.#tuning.lostAfterMs, null))).rows)
        lost.set(a.id, a)
    }
    for (const a of lost.values()) this.#announce(a, 'presence')
    return [...lost.keys()]
  }
}

/** One order for a set, so an unchanged set compares equal to the stored one. */
function sortedPlugins(plugins: LoadedPlugin[]): LoadedPlugin[] {
  return plugins
    .map((p) => ({ name: p.name, version: p.version }))
    .sort((a, b) => (a.name === b.name ? cmp(a.version, b.version) : cmp(a.name, b.name)))
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

function enrollmentInvalid(): StavilyError {
  return new StavilyError(
    'STAVILY_ERR_ENROLLMENT_INVALID',
    'enrollmentToken: not valid (unknown, expired, revoked or used up); ask an operator for a new one',
    { data: { field: 'enrollmentToken' } },
  )
}

function replacedOrRevoked(): StavilyError {
  return new StavilyError(
    'STAVILY_ERR_UNAUTHENTICATED',
    'authorization: this agent credential was replaced (rotated) or revoked; use the current one, or enroll again',
    { data: { field: 'authorization' } },
  )
}

function revoked(): StavilyError {
  return new StavilyError('STAVILY_ERR_AGENT_REVOKED', 'this agent credential was revoked; enroll again')
}
