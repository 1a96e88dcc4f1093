import * as plans from '../db/plans/instructions.ts'
import { run, type SqlClient } from '../db/sql-client.ts'
import { LIMITS } from '../defaults.ts'
import { StavilyError } from '../errors.ts'
import type { Agent, Instruction, InstructionOutcome } from '../types.ts'
import { type AfterCommit, type DispatchCore, failJob, notHeld } from './dispatch-core.ts'
import { txBossDb } from './pglite-boss-db.ts'

// Leases: renewed by the agent that holds them, given up when past their deadline (retried
// elsewhere or dead-lettered), ended at once for gone agents, and cancelled by operators.

export class Leases {
  readonly #c: DispatchCore

  constructor(core: DispatchCore) {
    this.#c = core
  }

  /** Renews the lease of an instruction the agent holds; tells it whether to cancel. */
  async renew(agent: Agent, id: string, attempt: number): Promise<{ leaseUntil: Date; cancel: boolean }> {
    const { rows } = await run<{ leaseUntil: Date; cancelRequested: boolean }>(
      this.#c.db.sql,
      plans.renewLease(id, agent.id, attempt, this.#c.tuning.leaseTtlMs),
    )
    if (rows.length === 0) throw notHeld(id, attempt)
    return { leaseUntil: rows[0]!.leaseUntil, cancel: rows[0]!.cancelRequested }
  }

  async #failAttempt(
    tx: SqlClient,
    queue: string,
    id: string,
    error: unknown,
  ): Promise<Instruction['status']> {
    const status = await failJob(this.#c, tx, queue, id, error)
    if (status === 'failed') await run(tx, plans.finishInstruction(id, 'failed', null, error))
    else await run(tx, plans.requeueInstruction(id, error))
    return status
  }

  /** Gives up leases past their deadline: each is retried elsewhere or dead-lettered. */
  async sweepLeases(limit: number = LIMITS.leaseSweepBatch): Promise<number> {
    const queues = new Set<string>()
    const afters: AfterCommit[] = []
    const n = await this.#c.db.sql.transaction(async (tx) => {
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
            await this.#c.hooks?.requeued(tx, [
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
            if (this.#c.hooks) afters.push(await this.#c.hooks.finished(tx, outcome))
          }
        }
      }
      return rows.length
    })
    this.#c.metrics.leasesExpired += n
    for (const a of afters) a?.()
    for (const q of queues) await this.#c.wake(q)
    return n
  }

  /** Lets the leases of gone agents end now, so the sweeper moves their work on. */
  async releaseAgents(agentIds: string[]): Promise<void> {
    if (agentIds.length > 0) await run(this.#c.db.sql, plans.expireAgentLeases(agentIds))
  }

  async cancel(orgId: string, id: string, sql?: SqlClient): Promise<Instruction> {
    let after: AfterCommit
    const work = async (tx: SqlClient, own: boolean) => {
      const { rows } = await run<Instruction>(tx, plans.requestCancel(orgId, id))
      const inst = rows[0]
      if (!inst) throw new StavilyError('STAVILY_ERR_NOT_FOUND', `instruction ${id}: not found`)
      if (inst.status === 'cancelled') await this.#c.boss.cancel(inst.queue, id, { db: txBossDb(tx) })
      // Queued work of a step, cancelled before an agent took it: its step is finished here.
      // Inside a caller's transaction (cancelling a run), the caller cancels its steps itself.
      if (
        own &&
        inst.status === 'cancelled' &&
        inst.runId !== null &&
        inst.finishedAt !== null &&
        this.#c.hooks
      )
        after = await this.#c.hooks.finished(tx, {
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
    const inst = await this.#c.db.sql.transaction((tx) => work(tx, true))
    after?.()
    return inst
  }
}
