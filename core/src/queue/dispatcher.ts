import { randomUUID } from 'node:crypto'
import type PgBoss from 'pg-boss'
import type { Tuning } from '../config.ts'
import * as plans from '../db/plans/instructions.ts'
import { type Database, run, type SqlClient } from '../db/sql-client.ts'
import { StavilyError } from '../errors.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import type { Metrics } from '../metrics.ts'
import type { Agent, Instruction, InstructionSpec, ResultAnswer, ResultReport } from '../types.ts'
import { txBossDb } from './pglite-boss-db.ts'
import { DEAD_LETTER_QUEUE, instructionQueue, wakeChannel } from './queue-names.ts'

// Instruction dispatch on pg-boss. Stavily's `instructions` row is the instruction as users
// see it; its pg-boss job (same id) is what makes claiming exclusive and carries retries,
// backoff and the dead letter. Every change to both happens in one transaction, so a crash
// at any point leaves them agreeing. See docs/orchestrator.md, "Dispatch and leases".

export interface Pick {
  agent: Agent
  max: number
}

export class Dispatcher {
  readonly #db: Database
  readonly #boss: PgBoss
  readonly #fleet: FleetState
  readonly #tuning: Tuning
  readonly #metrics: Metrics
  readonly #knownQueues = new Set<string>()

  constructor(db: Database, boss: PgBoss, fleet: FleetState, tuning: Tuning, metrics: Metrics) {
    this.#db = db
    this.#boss = boss
    this.#fleet = fleet
    this.#tuning = tuning
    this.#metrics = metrics
  }

  async start(): Promise<void> {
    await this.#boss.createQueue(DEAD_LETTER_QUEUE, { name: DEAD_LETTER_QUEUE })
  }

  async ensureQueue(name: string): Promise<void> {
    if (this.#knownQueues.has(name)) return
    await this.#boss.createQueue(name, {
      name,
      retryLimit: this.#tuning.retryLimit,
      retryDelay: this.#tuning.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: this.#tuning.jobHardExpirySeconds,
      deadLetter: DEAD_LETTER_QUEUE,
    })
    this.#knownQueues.add(name)
  }

  /** Stores an instruction and its job in one transaction, then wakes the pool's parked polls. */
  async enqueue(orgId: string, spec: InstructionSpec, sql?: SqlClient): Promise<Instruction> {
    const queue = instructionQueue(orgId, spec.kind, spec.pool)
    await this.ensureQueue(queue)
    const id = randomUUID()
    const retryLimit = spec.retryLimit ?? this.#tuning.retryLimit
    const work = async (tx: SqlClient) => {
      const { rows } = await run<Instruction>(
        tx,
        plans.insertInstruction({
          id,
          orgId,
          kind: spec.kind,
          pool: spec.pool,
          queue,
          plugin: spec.plugin,
          operation: spec.operation,
          input: spec.input ?? {},
          config: spec.config ?? {},
          timeoutMs: spec.timeoutMs ?? this.#tuning.leaseTtlMs,
          maxAttempts: retryLimit + 1,
        }),
      )
      await this.#boss.send(queue, { orgId }, { id, retryLimit, db: txBossDb(tx) })
      return rows[0]!
    }
    // Part of a caller's transaction (a workflow step): the caller wakes after its commit.
    if (sql) return work(sql)
    const row = await this.#db.sql.transaction(work)
    await this.wake(queue)
    return row
  }

  wake(queue: string): Promise<void> {
    return this.#fleet.publish(wakeChannel(queue), '1')
  }

  /**
   * Claims work for parked polls of one queue: one pg-boss fetch for all of them, then each
   * job leased to one agent, all in one transaction. Returns what each agent got.
   */
  async claim(queue: string, picks: Pick[]): Promise<Map<string, Instruction[]>> {
    const out = new Map<string, Instruction[]>()
    const total = picks.reduce((n, p) => n + p.max, 0)
    if (total === 0) return out
    const leased = await this.#db.sql.transaction(async (tx) => {
      const jobs = await this.#boss.fetch(queue, {
        batchSize: total,
        includeMetadata: true,
        db: txBossDb(tx),
      })
      if (jobs.length === 0) return []
      // Round-robin over the polls, so a burst spreads over the agents that wait.
      const assignment: { id: string; agentId: string; attempt: number }[] = []
      const left = picks.map((p) => p.max)
      let i = 0
      for (const job of jobs) {
        while (left[i % picks.length] === 0) i++
        const k = i % picks.length
        left[k]!--
        assignment.push({ id: job.id, agentId: picks[k]!.agent.id, attempt: job.retryCount + 1 })
        i++
      }
      const { rows } = await run<Instruction & { waitedSeconds: number }>(
        tx,
        plans.leaseInstructions(assignment, this.#tuning.leaseTtlMs),
      )
      // A job whose instruction was cancelled (or finished) meanwhile is closed, not handed out.
      const stale = jobs.filter((j) => !rows.some((r) => r.id === j.id)).map((j) => j.id)
      if (stale.length > 0) await this.#boss.cancel(queue, stale, { db: txBossDb(tx) })
      return rows
    })
    for (const row of leased) {
      this.#metrics.dispatched++
      if (row.attempt === 1) this.#metrics.observePickup(row.waitedSeconds)
      const { waitedSeconds: _, ...instruction } = row
      const list = out.get(instruction.agentId!) ?? []
      list.push(instruction)
      out.set(instruction.agentId!, list)
    }
    return out
  }

  /** Renews the lease of an instruction the agent holds; tells it whether to cancel. */
  async renew(agent: Agent, id: string, attempt: number): Promise<{ leaseUntil: Date; cancel: boolean }> {
    const { rows } = await run<{ leaseUntil: Date; cancelRequested: boolean }>(
      this.#db.sql,
      plans.renewLease(id, agent.id, attempt, this.#tuning.leaseTtlMs),
    )
    if (rows.length === 0) throw notHeld(id, attempt)
    return { leaseUntil: rows[0]!.leaseUntil, cancel: rows[0]!.cancelRequested }
  }

  /**
   * Records a result. Idempotent on (instruction, attempt): a repeat gets the stored answer
   * and changes nothing. Only the agent holding that attempt may report it.
   */
  async report(agent: Agent, id: string, report: ResultReport): Promise<ResultAnswer> {
    let wakeQueue: string | undefined
    const answer = await this.#db.sql.transaction(async (tx) => {
      // Lock the instruction first: a concurrent repeat of this report waits here, then
      // finds the stored answer below.
      const inst = (await run<Instruction>(tx, plans.instructionForUpdate(agent.orgId, id))).rows[0]
      if (!inst) throw notHeld(id, report.attempt)
      const prior = (
        await run<{ agentId: string; answer: ResultAnswer }>(tx, plans.resultFor(id, report.attempt))
      ).rows[0]
      if (prior) {
        if (prior.agentId !== agent.id) throw notHeld(id, report.attempt)
        return prior.answer
      }
      if (
        inst.agentId !== agent.id ||
        inst.attempt !== report.attempt ||
        !['leased', 'running'].includes(inst.status)
      ) {
        throw notHeld(id, report.attempt)
      }
      const db = txBossDb(tx)
      let status: Instruction['status']
      if (report.status === 'succeeded') {
        await this.#boss.complete(inst.queue, id, {}, { db })
        status = 'succeeded'
        await run(tx, plans.finishInstruction(id, status, report.output ?? null, null))
      } else if (report.status === 'cancelled' || inst.cancelRequested) {
        await this.#boss.cancel(inst.queue, id, { db })
        status = report.status === 'failed' ? 'failed' : 'cancelled'
        await run(tx, plans.finishInstruction(id, status, report.output ?? null, report.error ?? null))
      } else if (report.error?.retryable === false) {
        // The plugin said retrying cannot help: fail now, without using up retries.
        await this.#boss.cancel(inst.queue, id, { db })
        status = 'failed'
        await run(tx, plans.finishInstruction(id, status, null, report.error))
      } else {
        status = await this.#failAttempt(
          tx,
          inst.queue,
          id,
          report.error ?? { code: 'STAVILY_ERR_FAILED', message: 'failed' },
        )
        if (status === 'queued') wakeQueue = inst.queue
      }
      const answer: ResultAnswer = {
        instructionId: id,
        attempt: report.attempt,
        instructionStatus: status,
        willRetry: status === 'queued',
      }
      await run(
        tx,
        plans.insertResult({
          instructionId: id,
          attempt: report.attempt,
          agentId: agent.id,
          status: report.status,
          output: report.output,
          error: report.error,
          logs: report.logs,
          answer,
        }),
      )
      return answer
    })
    if (answer.instructionStatus !== 'queued') this.#metrics.countResult(report.status)
    else this.#metrics.countResult('retried')
    if (wakeQueue) await this.wake(wakeQueue)
    return answer
  }

  // Fails the current attempt through pg-boss, which retries with backoff or, past the
  // limit, dead-letters the job; the instruction follows what pg-boss decided.
  async #failAttempt(
    tx: SqlClient,
    queue: string,
    id: string,
    error: unknown,
  ): Promise<Instruction['status']> {
    const db = txBossDb(tx)
    await this.#boss.fail(queue, id, error as object, { db })
    const job = await this.#boss.getJobById(queue, id, { db, includeArchive: false })
    if (job?.state === 'failed') {
      this.#metrics.deadLettered++
      await run(tx, plans.finishInstruction(id, 'failed', null, error))
      return 'failed'
    }
    await run(tx, plans.requeueInstruction(id, error))
    return 'queued'
  }

  /** Gives up leases past their deadline: each is retried elsewhere or dead-lettered. */
  async sweepLeases(limit = 100): Promise<number> {
    const queues = new Set<string>()
    const n = await this.#db.sql.transaction(async (tx) => {
      const { rows } = await run<{ id: string; queue: string; attempt: number }>(
        tx,
        plans.expiredLeases(limit),
      )
      for (const r of rows) {
        const status = await this.#failAttempt(tx, r.queue, r.id, {
          code: 'STAVILY_ERR_LEASE_EXPIRED',
          message: `lease of attempt ${r.attempt} ended before a result`,
        })
        if (status === 'queued') queues.add(r.queue)
      }
      return rows.length
    })
    this.#metrics.leasesExpired += n
    for (const q of queues) await this.wake(q)
    return n
  }

  /** Lets the leases of gone agents end now, so the sweeper moves their work on. */
  async releaseAgents(agentIds: string[]): Promise<void> {
    if (agentIds.length > 0) await run(this.#db.sql, plans.expireAgentLeases(agentIds))
  }

  async cancel(orgId: string, id: string): Promise<Instruction> {
    return this.#db.sql.transaction(async (tx) => {
      const { rows } = await run<Instruction>(tx, plans.requestCancel(orgId, id))
      const inst = rows[0]
      if (!inst) throw new StavilyError('STAVILY_ERR_NOT_FOUND', `instruction ${id}: not found`)
      if (inst.status === 'cancelled') await this.#boss.cancel(inst.queue, id, { db: txBossDb(tx) })
      return inst
    })
  }

  async get(orgId: string, id: string): Promise<Instruction> {
    const { rows } = await run<Instruction>(this.#db.sql, plans.instructionById(orgId, id))
    if (!rows[0]) throw new StavilyError('STAVILY_ERR_NOT_FOUND', `instruction ${id}: not found`)
    return rows[0]
  }

  async cancelsFor(agentId: string): Promise<{ id: string; attempt: number }[]> {
    return (await run<{ id: string; attempt: number }>(this.#db.sql, plans.cancelsForAgent(agentId))).rows
  }

  async queueDepths() {
    return (
      await run<{ orgId: string; kind: string; pool: string; count: number }>(
        this.#db.sql,
        plans.queueDepths(),
      )
    ).rows
  }
}

function notHeld(id: string, attempt: number): StavilyError {
  return new StavilyError(
    'STAVILY_ERR_INSTRUCTION_NOT_HELD',
    `instruction ${id} attempt ${attempt}: not held by this agent (unknown, finished, or its lease went to another attempt)`,
    { data: { field: 'attempt' } },
  )
}
