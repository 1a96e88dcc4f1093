import type PgBoss from 'pg-boss'
import type { Tuning } from '../config.ts'
import * as plans from '../db/plans/instructions.ts'
import { type Database, run, type SqlClient, type Statement } from '../db/sql-client.ts'
import { LIMITS } from '../defaults.ts'
import { StavilyError } from '../errors.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import type { Metrics } from '../metrics.ts'
import type { Agent, Instruction, InstructionSpec, ResultAnswer, ResultReport } from '../types.ts'
import { Claims } from './claims.ts'
import { type Claimed, DispatchCore, type Pick, type Refusal, type StepHooks } from './dispatch-core.ts'
import { Leases } from './leases.ts'
import { Queues } from './queues.ts'
import { Results } from './results.ts'

// Instruction dispatch on pg-boss. Stavily's `instructions` row is the instruction as users
// see it; its pg-boss job (same id) is what makes claiming exclusive and carries retries,
// backoff and the dead letter. Every change to both happens in one transaction, so a crash
// at any point leaves them agreeing. See docs/orchestrator.md, "Dispatch and leases".
//
// Its parts, one file each: queues.ts (queues, instructions and their jobs), claims.ts
// (parked polls take work), results.ts (an attempt's outcome), leases.ts (renewal, expiry,
// cancel), over dispatch-core.ts (what they share). This class is their one face.

export type { AfterCommit, Claimed, Pick, Refusal, StepHooks } from './dispatch-core.ts'

export class Dispatcher {
  readonly #c: DispatchCore
  readonly #queues: Queues
  readonly #claims: Claims
  readonly #results: Results
  readonly #leases: Leases

  constructor(db: Database, boss: PgBoss, fleet: FleetState, tuning: Tuning, metrics: Metrics) {
    this.#c = new DispatchCore(db, boss, fleet, tuning, metrics)
    this.#queues = new Queues(this.#c)
    this.#claims = new Claims(this.#c)
    this.#results = new Results(this.#c)
    this.#leases = new Leases(this.#c)
  }

  /** The engine's in-transaction hooks (one set per dispatcher). */
  setStepHooks(hooks: StepHooks | undefined): void {
    this.#c.hooks = hooks
  }

  start(): Promise<void> {
    return this.#queues.start()
  }

  /** Creates the pg-boss queue of a pool on first use; concurrent callers share one creation. */
  ensureQueue(name: string): Promise<void> {
    return this.#queues.ensureQueue(name)
  }

  /** Stores an instruction and its job in one transaction, then wakes the pool's parked polls. */
  enqueue(orgId: string, spec: InstructionSpec, sql?: SqlClient): Promise<Instruction> {
    return this.#queues.enqueue(orgId, spec, sql)
  }

  /** An instruction and its pg-boss job as statements for the caller's transaction (see queues.ts). */
  prepare(
    orgId: string,
    spec: InstructionSpec,
    sql?: SqlClient,
  ): Promise<{ id: string; queue: string; statement: Statement; job: Statement }> {
    return this.#queues.prepare(orgId, spec, sql)
  }

  wake(queue: string): Promise<void> {
    return this.#c.wake(queue)
  }

  /** Calls `fn` with each queue this instance wakes, synchronously, before the wake-up travels; returns the way to stop. */
  onLocalWake(fn: (queue: string) => void): () => void {
    this.#c.localWakes.add(fn)
    return () => this.#c.localWakes.delete(fn)
  }

  /** Claims work for parked polls of one queue (see claims.ts). */
  claim(queue: string, picks: Pick[]): Promise<Claimed> {
    return this.#claims.claim(queue, picks)
  }

  /** The parked polls (of any queue) whose agent was revoked, is draining, or whose credential rotated away. */
  refusedPolls(picks: Pick[]): Promise<Map<number, Refusal>> {
    return this.#claims.refusedPolls(picks)
  }

  /** Puts back work claimed for a poll that was gone before it could be answered. */
  handBack(queue: string, ids: string[]): Promise<void> {
    return this.#claims.handBack(queue, ids)
  }

  /** Renews the lease of an instruction the agent holds; tells it whether to cancel. */
  renew(agent: Agent, id: string, attempt: number): Promise<{ leaseUntil: Date; cancel: boolean }> {
    return this.#leases.renew(agent, id, attempt)
  }

  /** Records a result; idempotent on (instruction, attempt) (see results.ts). */
  report(agent: Agent, id: string, report: ResultReport): Promise<ResultAnswer> {
    return this.#results.report(agent, id, report)
  }

  /** Gives up leases past their deadline: each is retried elsewhere or dead-lettered. */
  sweepLeases(limit: number = LIMITS.leaseSweepBatch): Promise<number> {
    return this.#leases.sweepLeases(limit)
  }

  /** Lets the leases of gone agents end now, so the sweeper moves their work on. */
  releaseAgents(agentIds: string[]): Promise<void> {
    return this.#leases.releaseAgents(agentIds)
  }

  cancel(orgId: string, id: string, sql?: SqlClient): Promise<Instruction> {
    return this.#leases.cancel(orgId, id, sql)
  }

  async get(orgId: string, id: string): Promise<Instruction> {
    const { rows } = await run<Instruction>(this.#c.db.sql, plans.instructionById(orgId, id))
    if (!rows[0]) throw new StavilyError('STAVILY_ERR_NOT_FOUND', `instruction ${id}: not found`)
    return rows[0]
  }

  async cancelsFor(agentId: string): Promise<{ id: string; attempt: number }[]> {
    return (await run<{ id: string; attempt: number }>(this.#c.db.sql, plans.cancelsForAgent(agentId))).rows
  }

  async queueDepths() {
    return (
      await run<{ orgId: string; kind: string; pool: string; count: number }>(
        this.#c.db.sql,
        plans.queueDepths(),
      )
    ).rows
  }
}
