import { randomUUID } from 'node:crypto'
import { clipLogs } from '@stavily/protocol'
import type PgBoss from 'pg-boss'
import type { Tuning } from '../config.ts'
import * as plans from '../db/plans/instructions.ts'
import { type Database, run, type SqlClient, type Statement } from '../db/sql-client.ts'
import { StavilyError } from '../errors.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import type { Metrics } from '../metrics.ts'
import type {
  Agent,
  Instruction,
  InstructionOutcome,
  InstructionSpec,
  ResultAnswer,
  ResultReport,
} from '../types.ts'
import { bossSchema, completeJob, unstartJobs } from './boss.ts'
import { txBossDb } from './pglite-boss-db.ts'
import { checkPriority } from './priority.ts'
import { DEAD_LETTER_QUEUE, instructionQueue, wakeChannel } from './queue-names.ts'

/** pg-boss asserts expireIn < 24 hours. */
const PG_BOSS_MAX_EXPIRY_SECONDS = 24 * 3_600 - 1

// Instruction dispatch on pg-boss. Stavily's `instructions` row is the instruction as users
// see it; its pg-boss job (same id) is what makes claiming exclusive and carries retries,
// backoff and the dead letter. Every change to both happens in one transaction, so a crash
// at any point leaves them agreeing. See docs/orchestrator.md, "Dispatch and leases".

/** A parked poll asking for work. */
export interface Pick {
  /** The poll's own key: what it gets is keyed by it, never by agent (one agent may park several polls). */
  key: number
  agent: Agent
  /** Hex of the hash of the credential the poll came with: a rotation refuses it. */
  credentialHash: string
  max: number
}

/** Why a parked poll may not lease: its agent was revoked, or the poll's credential rotated away. */
export type Refusal = 'revoked' | 'rotated'

export interface Claimed {
  /** What each poll got, by its key; every poll gets at most its `max`. */
  got: Map<number, Instruction[]>
  /** Polls whose agent may no longer lease: end them with a 401. */
  refused: Map<number, Refusal>
  /** The fetch filled every open poll: more work may be waiting. */
  more: boolean
  /** The fetch ran and found less than the open polls asked for: the queue is empty now. */
  drained: boolean
}

/**
 * The dispatcher's one channel to the engine. Called inside the dispatcher's transactions
 * for instructions that belong to a workflow step (runId set), so the step's row moves
 * atomically with its instruction: picked up by an agent (`leased`), back in the queue for
 * another attempt (`requeued`), or finished (`finished`: a result, an expired lease or
 * timeout past the last attempt, a cancel of queued work; the step's result is recorded and
 * the run advanced in the transaction that records the instruction's outcome, so neither
 * can be lost without the other). `finished` may return work to do after the commit
 * (waking agents, the live stream). What a crash loses between the two, the engine's
 * reconcile pass redoes.
 */
export interface StepHooks {
  leased(tx: SqlClient, instructions: Instruction[]): Promise<void>
  requeued(
    tx: SqlClient,
    instructions: { id: string; orgId: string; runId: string; stepId: string; error: unknown }[],
  ): Promise<void>
  finished(tx: SqlClient, outcome: InstructionOutcome): Promise<AfterCommit>
}

export type AfterCommit = (() => void) | undefined

export class Dispatcher {
  readonly #db: Database
  readonly #boss: PgBoss
  readonly #fleet: FleetState
  readonly #tuning: Tuning
  readonly #metrics: Metrics
  readonly #queues = new Map<string, Promise<void>>()
  /** Claims made per queue on this instance: every `priorityFairEvery`-th takes the oldest work first. */
  readonly #claims = new Map<string, number>()
  #hooks: StepHooks | undefined

  constructor(db: Database, boss: PgBoss, fleet: FleetState, tuning: Tuning, metrics: Metrics) {
    this.#db = db
    this.#boss = boss
    this.#fleet = fleet
    this.#tuning = tuning
    this.#metrics = metrics
  }

  /** The engine's in-transaction hooks (one set per dispatcher). */
  setStepHooks(hooks: StepHooks | undefined): void {
    this.#hooks = hooks
  }

  async start(): Promise<void> {
    await this.#boss.createQueue(DEAD_LETTER_QUEUE, { name: DEAD_LETTER_QUEUE })
  }

  /** Creates the pg-boss queue of a pool on first use; concurrent callers share one creation. */
  ensureQueue(name: string): Promise<void> {
    let p = this.#queues.get(name)
    if (!p) {
      p = this.#createQueue(name).catch((err) => {
        this.#queues.delete(name)
        throw err
      })
      this.#queues.set(name, p)
    }
    return p
  }

  async #queueExists(sql: SqlClient, name: string): Promise<void> {
    if (this.#queues.has(name)) return
    const { rows } = await sql.query(`SELECT 1 FROM ${bossSchema(this.#db)}.queue WHERE name = $1`, [name])
    if (rows.length === 0)
      throw new StavilyError(
        'STAVILY_ERR_INTERNAL',
        `queue ${name}: does not exist; ensureQueue() it before enqueueing inside a transaction`,
      )
    this.#queues.set(name, Promise.resolve())
  }

  async #createQueue(name: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#boss.createQueue(name, {
          name,
          retryLimit: this.#tuning.retryLimit,
          retryDelay: this.#tuning.retryDelaySeconds,
          retryBackoff: true,
          expireInSeconds: this.#tuning.jobHardExpirySeconds,
          deadLetter: DEAD_LETTER_QUEUE,
        })
        return
      } catch (err) {
        // Two instances creating the same queue's partition at once can deadlock or collide
        // in PostgreSQL; the loser tries again and then finds the queue there.
        const code = (err as { code?: string }).code
        if (attempt >= 5 || (code !== '40P01' && code !== '23505' && code !== '42P07')) throw err
        await new Promise((r) => setTimeout(r, 20 * attempt))
      }
    }
  }

  /** Stores an instruction and its job in one transaction, then wakes the pool's parked polls. */
  async enqueue(orgId: string, spec: InstructionSpec, sql?: SqlClient): Promise<Instruction> {
    const prepared = await this.prepare(orgId, spec, sql)
    const work = async (tx: SqlClient) => {
      const { rows } = await run<Instruction>(tx, prepared.statement)
      await run(tx, prepared.job)
      return rows[0]!
    }
    // Part of a caller's transaction (a workflow step): the caller wakes after its commit.
    if (sql) return work(sql)
    const row = await this.#db.sql.transaction(work)
    await this.wake(prepared.queue)
    return row
  }

  /**
   * An instruction as a statement the caller runs (possibly combined with its own, in one
   * round trip) plus its pg-boss job, to send in the same transaction. With `sql` (a
   * caller's transaction) the queue must already exist: creating it would use another
   * connection (on PGlite's single one, wait for this very transaction).
   */
  async prepare(
    orgId: string,
    spec: InstructionSpec,
    sql?: SqlClient,
  ): Promise<{ id: string; queue: string; statement: Statement; job: Statement }> {
    const queue = instructionQueue(orgId, spec.kind, spec.pool)
    if (sql) await this.#queueExists(sql, queue)
    else await this.ensureQueue(queue)
    const id = spec.id ?? randomUUID()
    const retryLimit = spec.retryLimit ?? this.#tuning.retryLimit
    const timeoutMs = spec.timeoutMs ?? this.#tuning.leaseTtlMs
    const priority = checkPriority(spec.priority)
    // pg-boss keeps the priority on the job (and its retries) and fetches by it: see claim().
    const options: PgBoss.SendOptions = { id, retryLimit, priority }
    if (spec.retryDelaySeconds !== undefined) options.retryDelay = spec.retryDelaySeconds
    if (spec.retryBackoff !== undefined) options.retryBackoff = spec.retryBackoff
    // pg-boss's own expiry must not cut an attempt its step allows to run longer; pg-boss
    // refuses an expiry of 24 hours or more, so a step allowed (nearly) a day gets the most
    // it accepts instead of failing to enqueue (a 500).
    if (timeoutMs / 1000 + 60 > this.#tuning.jobHardExpirySeconds)
      options.expireInSeconds = Math.min(Math.ceil(timeoutMs / 1000) + 60, PG_BOSS_MAX_EXPIRY_SECONDS)
    return {
      id,
      queue,
      statement: plans.insertInstruction({
        id,
        orgId,
        kind: spec.kind,
        pool: spec.pool,
        queue,
        plugin: spec.plugin,
        operation: spec.operation,
        input: spec.input ?? {},
        config: spec.config ?? {},
        timeoutMs,
        maxAttempts: retryLimit + 1,
        pluginVersion: spec.pluginVersion ?? null,
        idempotencyKey: spec.idempotencyKey ?? id,
        runId: spec.runId ?? null,
        stepId: spec.stepId ?? null,
        priority,
      }),
      job: await this.#jobStatement(queue, { orgId }, options),
    }
  }

  // pg-boss's own insert of a job, as a statement to send with the instruction's (one round
  // trip for both): send() is run against a db that records the statement instead of
  // executing it. pg-boss 10's send() is exactly one insert, answered with the job's id.
  async #jobStatement(queue: string, data: object, options: PgBoss.SendOptions): Promise<Statement> {
    let captured: Statement | undefined
    const db = {
      executeSql: async (text: string, values?: unknown[]) => {
        if (captured)
          throw new StavilyError('STAVILY_ERR_INTERNAL', 'pg-boss send(): expected one statement, got more')
        captured = { text, values: values ?? [] }
        return { rows: [{ id: options.id }] }
      },
    }
    await this.#boss.send(queue, data, { ...options, db } as PgBoss.SendOptions)
    if (!captured) throw new StavilyError('STAVILY_ERR_INTERNAL', 'pg-boss send(): sent no statement')
    return captured
  }

  wake(queue: string): Promise<void> {
    return this.#fleet.publish(wakeChannel(queue), '1')
  }

  /**
   * Claims work for parked polls of one queue: where their agents stand (locked), one
   * pg-boss fetch for the polls that may lease, then each job leased to one poll, all in one
   * transaction. Returns what each poll got, and the polls refused (revoked or rotated).
   */
  async claim(queue: string, picks: Pick[]): Promise<Claimed> {
    const got = new Map<number, Instruction[]>()
    const refused = new Map<number, Refusal>()
    let more = false
    let drained = false
    if (picks.length === 0) return { got, refused, more, drained }
    const leased = await this.#db.sql.transaction(async (tx) => {
      // A pickup need not survive a crash: lost, the job is simply claimable again, and the
      // agent's report for the forgotten attempt is refused. So this commit does not wait
      // for the WAL flush (set by the standing check); everything that acknowledges work to
      // anyone does.
      const standing = await this.#standing(tx, picks, true)
      for (const [key, why] of standing) refused.set(key, why)
      const open = picks.filter((p) => !refused.has(p.key) && p.max > 0)
      const total = open.reduce((n, p) => n + p.max, 0)
      if (total === 0) return []
      const fair = this.#fairTurn(queue)
      const jobs = await this.#boss.fetch(queue, {
        batchSize: total,
        includeMetadata: true,
        priority: !fair,
        db: txBossDb(tx),
      })
      more = jobs.length >= total
      drained = !more
      if (jobs.length === 0) return []
      this.#countClaim(queue)
      // Round-robin over the polls, so a burst spreads over the agents that wait; each poll
      // gets at most its own `max`, and each job goes to exactly one poll.
      const assignment: { id: string; agentId: string; attempt: number; credentialHash: string }[] = []
      const pollOf = new Map<string, number>()
      const left = open.map((p) => p.max)
      let i = 0
      for (const job of jobs) {
        while (left[i % open.length] === 0) i++
        const k = i % open.length
        left[k]!--
        const pick = open[k]!
        assignment.push({
          id: job.id,
          agentId: pick.agent.id,
          attempt: job.retryCount + 1,
          credentialHash: pick.credentialHash,
        })
        pollOf.set(job.id, pick.key)
        i++
      }
      const { rows } = await run<Instruction & { waitedSeconds: number }>(
        tx,
        plans.leaseInstructions(assignment, this.#tuning.leaseTtlMs),
      )
      // A job whose instruction was cancelled (or finished) meanwhile is closed, not handed out.
      const stale = jobs.filter((j) => !rows.some((r) => r.id === j.id)).map((j) => j.id)
      if (stale.length > 0) await this.#boss.cancel(queue, stale, { db: txBossDb(tx) })
      const steps = rows.filter((r) => r.runId !== null)
      if (steps.length > 0 && this.#hooks) await this.#hooks.leased(tx, steps)
      return rows.map((r) => ({ row: r, key: pollOf.get(r.id)! }))
    })
    for (const { row, key } of leased) {
      this.#metrics.dispatched++
      if (row.attempt === 1) this.#metrics.observePickup(row.waitedSeconds)
      const { waitedSeconds: _, ...instruction } = row
      const list = got.get(key) ?? []
      list.push(instruction)
      got.set(key, list)
    }
    return { got, refused, more, drained }
  }

  // Priority without starvation. pg-boss fetches by priority (higher first), then age; a
  // steady stream of high-priority work would then hold low-priority work back forever. So
  // every `priorityFairEvery`-th claim that hands out work on a queue (counted per
  // instance) fetches oldest first, whatever the priority: work at position k in arrival
  // order is claimed within about k × priorityFairEvery claims, while the other claims
  // serve the higher priorities. 1 makes every claim oldest-first (priorities off).
  #fairTurn(queue: string): boolean {
    const every = Math.max(1, Math.floor(this.#tuning.priorityFairEvery))
    return ((this.#claims.get(queue) ?? 0) + 1) % every === 0
  }

  #countClaim(queue: string): void {
    const every = Math.max(1, Math.floor(this.#tuning.priorityFairEvery))
    this.#claims.set(queue, ((this.#claims.get(queue) ?? 0) + 1) % every)
  }

  /** The parked polls (of any queue) whose agent was revoked or whose credential rotated away. */
  async refusedPolls(picks: Pick[]): Promise<Map<number, Refusal>> {
    if (picks.length === 0) return new Map()
    return this.#db.sql.transaction((tx) => this.#standing(tx, picks))
  }

  async #standing(tx: SqlClient, picks: Pick[], asyncCommit = false): Promise<Map<number, Refusal>> {
    const { rows } = await run<{ key: number; revoked: boolean; current: boolean }>(
      tx,
      plans.agentStanding(
        picks.map((p) => ({ key: p.key, agentId: p.agent.id, credentialHash: p.credentialHash })),
        { asyncCommit },
      ),
    )
    const out = new Map<number, Refusal>()
    const seen = new Set<number>()
    for (const r of rows) {
      seen.add(r.key)
      if (r.revoked) out.set(r.key, 'revoked')
      else if (!r.current) out.set(r.key, 'rotated')
    }
    // No row: the agent is gone altogether (its organization deleted).
    for (const p of picks) if (!seen.has(p.key)) out.set(p.key, 'revoked')
    return out
  }

  /**
   * Puts back work claimed for a poll that was gone (timed out, hung up, shutdown) before
   * it could be answered, instead of leaving it until its lease ends: the job is cancelled
   * and resumed, so it is claimable at once, and its attempt count is put back as it was
   * before the pickup (no agent ever received it).
   */
  async handBack(queue: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return
    await this.#db.sql.transaction(async (tx) => {
      const db = txBossDb(tx)
      await this.#boss.cancel(queue, ids, { db })
      await this.#boss.resume(queue, ids, { db })
      await run(tx, unstartJobs(this.#db, queue, ids))
      await run(tx, plans.unleaseInstructions(ids))
    })
    await this.wake(queue)
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
    let after: AfterCommit
    const answer = await this.#db.sql.transaction(async (tx) => {
      // Lock the instruction first: a concurrent repeat of this report waits here, then
      // finds the stored answer.
      const row = (
        await run<Instruction & { priorAgentId: string | null; priorAnswer: ResultAnswer | null }>(
          tx,
          plans.instructionForResult(agent.orgId, id, report.attempt),
        )
      ).rows[0]
      if (!row) throw notHeld(id, report.attempt)
      if (row.priorAnswer) {
        if (row.priorAgentId !== agent.id) throw notHeld(id, report.attempt)
        return row.priorAnswer
      }
      if (
        row.agentId !== agent.id ||
        row.attempt !== report.attempt ||
        !['leased', 'running'].includes(row.status)
      ) {
        throw notHeld(id, report.attempt)
      }
      const db = txBossDb(tx)
      let status: Instruction['status']
      let error: unknown = report.error ?? null
      // A success completes its job in the statement that records it.
      let completion: Statement | undefined
      if (report.status === 'succeeded') {
        completion = completeJob(this.#db, row.queue, id)
        status = 'succeeded'
      } else if (report.status === 'cancelled' || row.cancelRequested) {
        await this.#boss.cancel(row.queue, id, { db })
        status = report.status === 'failed' ? 'failed' : 'cancelled'
      } else if (report.error?.retryable === false) {
        // The plugin said retrying cannot help: fail now, without using up retries.
        await this.#boss.cancel(row.queue, id, { db })
        status = 'failed'
      } else {
        error = report.error ?? { code: 'STAVILY_ERR_FAILED', message: 'the attempt failed' }
        status = await this.#failJob(tx, row.queue, id, error)
        if (status === 'queued') wakeQueue = row.queue
      }
      const answer: ResultAnswer = {
        instructionId: id,
        attempt: report.attempt,
        instructionStatus: status,
        willRetry: status === 'queued',
      }
      await run(
        tx,
        plans.recordOutcome(
          {
            id,
            status,
            output: status === 'queued' ? null : (report.output ?? null),
            error,
            attempt: report.attempt,
            agentId: agent.id,
            reported: report.status,
            // Clipped here too: an agent older than the clipping (or not this agent) may send more.
            logs: clipLogs(report.logs),
            answer,
          },
          completion,
        ),
      )
      if (row.runId !== null && row.stepId !== null) {
        if (status === 'queued') {
          await this.#hooks?.requeued(tx, [
            { id, orgId: row.orgId, runId: row.runId, stepId: row.stepId, error },
          ])
        } else {
          const outcome: InstructionOutcome = {
            id,
            orgId: row.orgId,
            runId: row.runId,
            stepId: row.stepId,
            attempt: report.attempt,
            status: status as InstructionOutcome['status'],
            output: status === 'succeeded' ? (report.output ?? null) : null,
            error: errorOf(error),
          }
          if (this.#hooks) after = await this.#hooks.finished(tx, outcome)
        }
      }
      return answer
    })
    this.#metrics.countResult(answer.instructionStatus === 'queued' ? 'retried' : report.status)
    after?.()
    if (wakeQueue) await this.wake(wakeQueue)
    return answer
  }

  // Fails the current attempt through pg-boss, which retries with backoff or, past the
  // limit, dead-letters the job. Returns what pg-boss decided: 'queued' or 'failed'.
  async #failJob(tx: SqlClient, queue: string, id: string, error: unknown): Promise<'queued' | 'failed'> {
    const db = txBossDb(tx)
    await this.#boss.fail(queue, id, error as object, { db })
    const job = await this.#boss.getJobById(queue, id, { db, includeArchive: false })
    if (job?.state === 'failed') {
      this.#metrics.deadLettered++
      return 'failed'
    }
    return 'queued'
  }

  async #failAttempt(
    tx: SqlClient,
    queue: string,
    id: string,
    error: unknown,
  ): Promise<Instruction['status']> {
    const status = await this.#failJob(tx, queue, id, error)
    if (status === 'failed') await run(tx, plans.finishInstruction(id, 'failed', null, error))
    else await run(tx, plans.requeueInstruction(id, error))
    return status
  }

  /** Gives up leases past their deadline: each is retried elsewhere or dead-lettered. */
  async sweepLeases(limit = 100): Promise<number> {
    const queues = new Set<string>()
    const afters: AfterCommit[] = []
    const n = await this.#db.sql.transaction(async (tx) => {
      const { rows } = await run<{
        id: string
        orgId: string
        queue: string
        attempt: number
        timedOut: boolean
        timeoutMs: number
        runId: string | null
        stepId: string | null
      }>(tx, plans.expiredLeases(limit))
      for (const r of rows) {
        // A step attempt past its timeout fails like a lost lease, with a code that says so.
        const error = r.timedOut
          ? {
              code: 'STAVILY_ERR_STEP_TIMEOUT',
              message: `attempt ${r.attempt} ran longer than its timeout of ${r.timeoutMs} ms`,
            }
          : {
              code: 'STAVILY_ERR_LEASE_EXPIRED',
              message: `lease of attempt ${r.attempt} ended before a result`,
            }
        const status = await this.#failAttempt(tx, r.queue, r.id, error)
        if (status === 'queued') queues.add(r.queue)
        const step = r
        if (step.runId && step.stepId) {
          if (status === 'queued') {
            await this.#hooks?.requeued(tx, [
              { id: r.id, orgId: r.orgId, runId: step.runId, stepId: step.stepId, error },
            ])
          } else {
            const outcome: InstructionOutcome = {
              id: r.id,
              orgId: r.orgId,
              runId: step.runId,
              stepId: step.stepId,
              attempt: r.attempt,
              status: 'failed',
              output: null,
              error,
            }
            if (this.#hooks) afters.push(await this.#hooks.finished(tx, outcome))
          }
        }
      }
      return rows.length
    })
    this.#metrics.leasesExpired += n
    for (const a of afters) a?.()
    for (const q of queues) await this.wake(q)
    return n
  }

  /** Lets the leases of gone agents end now, so the sweeper moves their work on. */
  async releaseAgents(agentIds: string[]): Promise<void> {
    if (agentIds.length > 0) await run(this.#db.sql, plans.expireAgentLeases(agentIds))
  }

  async cancel(orgId: string, id: string, sql?: SqlClient): Promise<Instruction> {
    let after: AfterCommit
    const work = async (tx: SqlClient, own: boolean) => {
      const { rows } = await run<Instruction>(tx, plans.requestCancel(orgId, id))
      const inst = rows[0]
      if (!inst) throw new StavilyError('STAVILY_ERR_NOT_FOUND', `instruction ${id}: not found`)
      if (inst.status === 'cancelled') await this.#boss.cancel(inst.queue, id, { db: txBossDb(tx) })
      // Queued work of a step, cancelled before an agent took it: its step is finished here.
      // Inside a caller's transaction (cancelling a run), the caller cancels its steps itself.
      if (
        own &&
        inst.status === 'cancelled' &&
        inst.runId !== null &&
        inst.finishedAt !== null &&
        this.#hooks
      )
        after = await this.#hooks.finished(tx, {
          id: inst.id,
          orgId: inst.orgId,
          runId: inst.runId,
          stepId: inst.stepId,
          attempt: inst.attempt,
          status: 'cancelled',
          output: null,
          error: { code: 'STAVILY_ERR_CANCELLED', message: 'cancelled before an agent took it' },
        })
      return inst
    }
    if (sql) return work(sql, false)
    const inst = await this.#db.sql.transaction((tx) => work(tx, true))
    after?.()
    return inst
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

function errorOf(e: unknown): { code: string; message: string } | null {
  if (!e || typeof e !== 'object') return null
  const o = e as { code?: unknown; message?: unknown }
  return { code: String(o.code ?? 'STAVILY_ERR_FAILED'), message: String(o.message ?? 'the attempt failed') }
}

function notHeld(id: string, attempt: number): StavilyError {
  return new StavilyError(
    'STAVILY_ERR_INSTRUCTION_NOT_HELD',
    `instruction ${id} attempt ${attempt}: not held by this agent (unknown, finished, or its lease went to another attempt)`,
    { data: { field: 'attempt' } },
  )
}
