import { randomUUID } from 'node:crypto'
import type PgBoss from 'pg-boss'
import * as plans from '../db/plans/instructions.ts'
import { run, type SqlClient, type Statement } from '../db/sql-client.ts'
import { LIMITS } from '../defaults.ts'
import { StavilyError } from '../errors.ts'
import type { Instruction, InstructionSpec } from '../types.ts'
import { bossSchema } from './boss.ts'
import type { DispatchCore } from './dispatch-core.ts'
import { checkPriority } from './priority.ts'
import { DEAD_LETTER_QUEUE, instructionQueue } from './queue-names.ts'

// Queues and what goes into them: a pool's pg-boss queue, created on first use, and an
// instruction with its pg-boss job (one statement each, sent together by the caller).

export class Queues {
  readonly #c: DispatchCore
  readonly #queues = new Map<string, Promise<void>>()

  constructor(core: DispatchCore) {
    this.#c = core
  }

  async start(): Promise<void> {
    await this.#c.boss.createQueue(DEAD_LETTER_QUEUE, { name: DEAD_LETTER_QUEUE })
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

  async queueExists(sql: SqlClient, name: string): Promise<void> {
    if (this.#queues.has(name)) return
    const { rows } = await sql.query(`SELECT 1 FROM ${bossSchema(this.#c.db)}.queue WHERE name = $1`, [name])
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
        await this.#c.boss.createQueue(name, {
          name,
          retryLimit: this.#c.tuning.retryLimit,
          retryDelay: this.#c.tuning.retryDelaySeconds,
          retryBackoff: true,
          expireInSeconds: this.#c.tuning.jobHardExpirySeconds,
          deadLetter: DEAD_LETTER_QUEUE,
        })
        return
      } catch (err) {
        // Two instances creating the same queue's partition at once can deadlock or collide
        // in PostgreSQL; the loser tries again and then finds the queue there.
        const code = (err as { code?: string }).code
        if (
          attempt >= LIMITS.queueCreateRetries ||
          (code !== '40P01' && code !== '23505' && code !== '42P07')
        )
          throw err
        await new Promise((r) => setTimeout(r, LIMITS.queueCreateBackoffMs * attempt))
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
    const row = await this.#c.db.sql.transaction(work)
    await this.#c.wake(prepared.queue)
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
    if (sql) await this.queueExists(sql, queue)
    else await this.ensureQueue(queue)
    const id = spec.id ?? randomUUID()
    const retryLimit = spec.retryLimit ?? this.#c.tuning.retryLimit
    const timeoutMs = spec.timeoutMs ?? this.#c.tuning.leaseTtlMs
    const priority = checkPriority(spec.priority)
    // pg-boss keeps the priority on the job (and its retries) and fetches by it: see claim().
    const options: PgBoss.SendOptions = { id, retryLimit, priority }
    if (spec.retryDelaySeconds !== undefined) options.retryDelay = spec.retryDelaySeconds
    if (spec.retryBackoff !== undefined) options.retryBackoff = spec.retryBackoff
    // pg-boss's own expiry must not cut an attempt its step allows to run longer; pg-boss
    // refuses an expiry of 24 hours or more, so a step allowed (nearly) a day gets the most
    // it accepts instead of failing to enqueue (a 500).
    const slack = LIMITS.jobExpirySlackSeconds
    if (timeoutMs / 1000 + slack > this.#c.tuning.jobHardExpirySeconds)
      options.expireInSeconds = Math.min(Math.ceil(timeoutMs / 1000) + slack, LIMITS.jobExpiryMaxSeconds)
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
    await this.#c.boss.send(queue, data, { ...options, db } as PgBoss.SendOptions)
    if (!captured) throw new StavilyError('STAVILY_ERR_INTERNAL', 'pg-boss send(): sent no statement')
    return captured
  }
}
