import { randomUUID } from 'node:crypto'
import type PgBoss from 'pg-boss'
import { expect } from 'vitest'
import { hashSecret } from '../../src/auth/secrets.ts'
import type { Tuning } from '../../src/config.ts'
import { migrate } from '../../src/db/migrate.ts'
import type { Database, SqlClient } from '../../src/db/sql-client.ts'
import { DEFAULTS } from '../../src/defaults.ts'
import { StavilyError } from '../../src/errors.ts'
import { MemoryFleet } from '../../src/fleet/memory-fleet.ts'
import { Metrics } from '../../src/metrics.ts'
import { bossSchema, startBoss } from '../../src/queue/boss.ts'
import { Dispatcher, type Pick, type StepHooks } from '../../src/queue/dispatcher.ts'
import { wakeChannel } from '../../src/queue/queue-names.ts'
import { Agents } from '../../src/services/agents.ts'
import { LiveStream } from '../../src/services/live-stream.ts'
import { Tenancy } from '../../src/services/tenancy.ts'
import type { Agent, AgentKind, Instruction, InstructionOutcome } from '../../src/types.ts'
import type { Backend } from './backends.ts'

// The dispatcher's unit tests (core/src/queue/*.test.ts) on a real database, without HTTP:
// the parts the orchestrator composes (orchestrator.ts), pg-boss started as it starts it
// (background maintenance off), and agents enrolled through the agents service. Each test
// takes an organization of its own, so its queues and agents are its own.

export interface DispatchWorld {
  db: Database
  boss: PgBoss
  fleet: MemoryFleet
  tenancy: Tenancy
  agents: Agents
  /** A dispatcher as the orchestrator builds one, with its own metrics and recording hooks. */
  dispatcher(tuning?: Partial<Tuning>): Promise<Rig>
  close(): Promise<void>
}

export interface Rig {
  d: Dispatcher
  metrics: Metrics
  hooks: RecordingHooks
  tuning: Tuning
}

export async function openDispatchWorld(backend: Backend): Promise<DispatchWorld> {
  const db = await backend.open()
  await migrate(db)
  const boss = await startBoss(db, {
    ...(backend.url ? { url: backend.url } : {}),
    supervise: false,
    schedule: false,
  })
  const fleet = new MemoryFleet()
  const tenancy = new Tenancy(db, { ...DEFAULTS })
  const agents = new Agents(db, fleet, { ...DEFAULTS }, new LiveStream(fleet))
  return {
    db,
    boss,
    fleet,
    tenancy,
    agents,
    async dispatcher(overrides = {}) {
      const tuning: Tuning = { ...DEFAULTS, ...overrides }
      const metrics = new Metrics()
      const d = new Dispatcher(db, boss, fleet, tuning, metrics)
      await d.start()
      const hooks = new RecordingHooks()
      d.setStepHooks(hooks)
      return { d, metrics, hooks, tuning }
    },
    async close() {
      await agents.close()
      await boss.stop({ graceful: false, wait: true })
      await fleet.close()
      await db.close()
    },
  }
}

export async function newOrg(w: DispatchWorld): Promise<string> {
  return (await w.tenancy.createOrganization(`org-${randomUUID()}`)).organization.id
}

export interface Enrolled {
  agent: Agent
  credential: string
  /** A parked poll of this agent: what the poll hub hands the dispatcher. */
  pick(key: number, max: number): Pick
}

/** An agent enrolled as `stavily agent` enrolls (an enrollment token exchanged for a credential). */
export async function enroll(
  w: DispatchWorld,
  orgId: string,
  opts: { kind?: AgentKind; pool?: string } = {},
): Promise<Enrolled> {
  const token = await w.tenancy.createEnrollmentToken(orgId, {
    kind: opts.kind ?? 'action',
    pool: opts.pool ?? 'default',
  })
  const { agent, credential } = await w.agents.register({ enrollmentToken: token.token, name: 'a' })
  const credentialHash = hashSecret(credential).toString('hex')
  return { agent, credential, pick: (key, max) => ({ key, agent, credentialHash, max }) }
}

export type HookCall =
  | { hook: 'leased'; ids: string[]; statuses: string[] }
  | {
      hook: 'requeued'
      instructions: { id: string; orgId: string; runId: string; stepId: string; error: unknown }[]
    }
  | { hook: 'finished'; outcome: InstructionOutcome; lockedRun: Record<string, unknown> | null | undefined }

/** The engine's interface, recording what the dispatcher tells it; `finished` returns an after-commit that counts. */
export class RecordingHooks implements StepHooks {
  readonly calls: HookCall[] = []
  afterCommits = 0
  /** Whether the instruction's new status was visible inside the hook's transaction. */
  readonly seenStatus: string[] = []

  async leased(tx: SqlClient, instructions: Instruction[]): Promise<void> {
    this.calls.push({
      hook: 'leased',
      ids: instructions.map((i) => i.id),
      statuses: instructions.map((i) => i.status),
    })
    await this.#see(tx, instructions[0]!.id)
  }

  async requeued(
    tx: SqlClient,
    instructions: { id: string; orgId: string; runId: string; stepId: string; error: unknown }[],
  ): Promise<void> {
    this.calls.push({ hook: 'requeued', instructions })
    await this.#see(tx, instructions[0]!.id)
  }

  async finished(
    tx: SqlClient,
    outcome: InstructionOutcome,
    lockedRun?: Record<string, unknown> | null,
  ): Promise<(() => void) | undefined> {
    this.calls.push({ hook: 'finished', outcome, lockedRun })
    await this.#see(tx, outcome.id)
    return () => {
      this.afterCommits++
    }
  }

  async #see(tx: SqlClient, id: string): Promise<void> {
    const { rows } = await tx.query<{ status: string }>('SELECT status FROM instructions WHERE id = $1', [id])
    this.seenStatus.push(rows[0]?.status ?? 'none')
  }
}

/** Wake-ups published on a queue's channel, counted. */
export async function wakes(w: DispatchWorld, queue: string): Promise<{ count: () => number }> {
  let n = 0
  await w.fleet.subscribe(wakeChannel(queue), () => {
    n++
  })
  return { count: () => n }
}

export interface JobRow {
  id: string
  name: string
  state: string
  priority: number
  retryLimit: number
  retryCount: number
  retryDelay: number
  retryBackoff: boolean
  expireSeconds: number
  startedOn: Date | null
  data: unknown
}

/** The pg-boss job of an instruction, as pg-boss stores it. */
export async function jobOf(w: DispatchWorld, id: string): Promise<JobRow | undefined> {
  const { rows } = await w.db.sql.query<JobRow & Record<string, unknown>>(
    `SELECT id, name, state, priority, retry_limit AS "retryLimit", retry_count AS "retryCount",
       retry_delay AS "retryDelay", retry_backoff AS "retryBackoff",
       extract(epoch FROM expire_in)::int AS "expireSeconds", started_on AS "startedOn", data
     FROM ${bossSchema(w.db)}.job WHERE id = $1`,
    [id],
  )
  return rows[0]
}

/** The dead-lettered copies of an organization's jobs (pg-boss moves a failed job's data and error there). */
export async function deadLetters(w: DispatchWorld, orgId: string): Promise<unknown[]> {
  const { rows } = await w.db.sql.query<{ output: unknown }>(
    `SELECT output FROM ${bossSchema(w.db)}.job WHERE name = 'stavily.dead' AND data->>'orgId' = $1`,
    [orgId],
  )
  return rows.map((r) => r.output)
}

export async function row(w: DispatchWorld, id: string): Promise<Instruction> {
  const { rows } = await w.db.sql.query<Instruction>(
    `SELECT id, status, attempt, agent_id AS "agentId", lease_until AS "leaseUntil", picked_at AS "pickedAt",
       finished_at AS "finishedAt", cancel_requested AS "cancelRequested", error, output
     FROM instructions WHERE id = $1`,
    [id],
  )
  return rows[0]!
}

/** The database's clock (leases are computed by it, not by this process). */
export async function dbNow(w: DispatchWorld): Promise<number> {
  const { rows } = await w.db.sql.query<{ now: Date }>('SELECT now() AS now')
  return rows[0]!.now.getTime()
}

/** The StavilyError a promise rejects with. */
export async function refusal(p: Promise<unknown>): Promise<StavilyError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(StavilyError)
  return err as StavilyError
}
