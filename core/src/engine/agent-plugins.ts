import semver from 'semver'
import type { Tuning } from '../config.ts'
import { agentSecretGrants } from '../db/plans/agents.ts'
import { type Database, run } from '../db/sql-client.ts'
import type { SecretStore } from '../secrets/index.ts'
import { grantedTo, type SecretGrants } from '../services/secret-grants.ts'
import type { Agent, Instruction } from '../types.ts'
import type { SensorTrigger } from '../workflows/index.ts'
import { handOutGrants, poolChangedSince, sensorAssignments } from './plans.ts'

// What the agent API hands agents beyond their instructions: sensor assignments in
// /plugins, secrets with each instruction, and the heartbeat's "re-read /plugins" hint.

export interface SensorAssignment {
  /** The workflow id: stable across edits; events carry it as sensorId. */
  id: string
  /** The workflow version: a new one means restart the sensor. */
  revision: number
  plugin: string
  version: string
  config: Record<string, unknown>
  intervalMs: number | null
  watch: boolean
  secrets: Record<string, string>
}

function declaredSecrets(permissions: unknown): string[] {
  const s = (permissions as { secrets?: unknown } | null)?.secrets
  return Array.isArray(s) ? s.filter((n): n is string => typeof n === 'string') : []
}

export class AgentPlugins {
  readonly #db: Database
  readonly #secrets: SecretStore
  readonly #tuning: Tuning

  constructor(db: Database, secrets: SecretStore, tuning: Tuning) {
    this.#db = db
    this.#secrets = secrets
    this.#tuning = tuning
  }

  /** The sensors a sensor agent runs: enabled sensor workflows of its pool whose plugin the pool enabled at a matching version. */
  async sensors(agent: Agent): Promise<SensorAssignment[]> {
    if (agent.kind !== 'sensor') return []
    const { rows } = await run<{
      id: string
      revision: number
      trigger: SensorTrigger
      desiredVersion: string
      permissions: unknown
    }>(this.#db.sql, sensorAssignments(agent.orgId, agent.pool))
    const out: SensorAssignment[] = []
    const grants = rows.length > 0 ? await this.#grants(agent) : null
    for (const r of rows) {
      if (!semver.satisfies(r.desiredVersion, r.trigger.version, { includePrerelease: true })) continue
      const granted = grantedTo(grants, r.trigger.plugin)
      out.push({
        id: r.id,
        revision: r.revision,
        plugin: r.trigger.plugin,
        version: r.desiredVersion,
        config: r.trigger.config,
        intervalMs: r.trigger.watch ? null : r.trigger.intervalMs,
        watch: r.trigger.watch,
        secrets: await this.#secrets.getExisting(
          agent.orgId,
          declaredSecrets(r.permissions).filter((n) => granted.has(n)),
        ),
      })
    }
    return out
  }

  /** The secrets each instruction's plugin declares, the agent grants it and the organization has, by instruction id. */
  async secretsFor(agent: Agent, instructions: Instruction[]): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>()
    if (instructions.length === 0) return out
    const names = [...new Set(instructions.map((i) => i.plugin))]
    // Grants are read at hand-out, not from the poll's authentication: a heartbeat may have changed them.
    const row = (
      await run<{ secretGrants: SecretGrants | null; plugins: { name: string; permissions: unknown }[] }>(
        this.#db.sql,
        handOutGrants(agent.orgId, agent.pool, names, agent.id),
      )
    ).rows[0]
    const grants = row?.secretGrants ?? null
    // Declared ∩ granted: a secret the agent does not grant its plugin never leaves the orchestrator.
    const declared = new Map(
      (row?.plugins ?? []).map((r) => [
        r.name,
        declaredSecrets(r.permissions).filter((n) => grantedTo(grants, r.name).has(n)),
      ]),
    )
    const wanted = [...new Set([...declared.values()].flat())]
    const values = wanted.length > 0 ? await this.#secrets.getExisting(agent.orgId, wanted) : {}
    for (const i of instructions) {
      const mine: Record<string, string> = {}
      for (const n of declared.get(i.plugin) ?? []) if (values[n] !== undefined) mine[n] = values[n]
      out.set(i.id, mine)
    }
    return out
  }

  // Read at hand-out, not from the poll's authentication: a heartbeat may have changed them.
  async #grants(agent: Agent): Promise<SecretGrants | null> {
    const { rows } = await run<{ secretGrants: SecretGrants | null }>(
      this.#db.sql,
      agentSecretGrants(agent.id),
    )
    return rows[0]?.secretGrants ?? null
  }

  /** Whether the pool's desired plugins or sensor assignments changed in the last two heartbeats. */
  async pluginsChanged(agent: Agent): Promise<boolean> {
    const { rows } = await run<{ changed: boolean }>(
      this.#db.sql,
      poolChangedSince(agent.orgId, agent.pool, 2 * this.#tuning.heartbeatMs),
    )
    return rows[0]?.changed ?? false
  }
}
