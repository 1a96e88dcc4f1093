import { clipLogs } from '@stavily/protocol'
import * as plans from '../db/plans/instructions.ts'
import { run, type Statement } from '../db/sql-client.ts'
import type { Agent, Instruction, InstructionOutcome, ResultAnswer, ResultReport } from '../types.ts'
import { completeJob } from './boss.ts'
import { type AfterCommit, type DispatchCore, errorOf, failJob, notHeld } from './dispatch-core.ts'
import { txBossDb } from './pglite-boss-db.ts'

// Results: an agent reports an attempt's outcome; recorded once (a repeat gets the stored
// answer), with the step's outcome in the same transaction (the step hooks).

export class Results {
  readonly #c: DispatchCore

  constructor(core: DispatchCore) {
    this.#c = core
  }

  /**
   * Records a result. Idempotent on (instruction, attempt): a repeat gets the stored answer
   * and changes nothing. Only the agent holding that attempt may report it.
   */
  async report(agent: Agent, id: string, report: ResultReport): Promise<ResultAnswer> {
    let wakeQueue: string | undefined
    let after: AfterCommit
    // A repeat is answered from what is stored and counted nowhere: an agent retrying a
    // report over a bad link must not inflate stavily_results_total.
    let recordedNow = false
    const answer = await this.#c.db.sql.transaction(async (tx) => {
      // Lock the instruction first: a concurrent repeat of this report waits here. Its read
      // of the stored answer was made before the wait (one snapshot per statement), so it
      // finds none and the instruction already moved on: see `recorded` below.
      const row = (
        await run<
          Instruction & {
            priorAgentId: string | null
            priorAnswer: ResultAnswer | null
            lockedRun: Record<string, unknown> | null
          }
        >(tx, plans.instructionForResult(agent.orgId, id, report.attempt))
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
        // A repeat that waited on the lock while the first report committed: the answer is
        // there now, for a statement started after the wait.
        const recorded = (
          await run<{ agentId: string; answer: ResultAnswer | null }>(tx, plans.resultFor(id, report.attempt))
        ).rows[0]
        if (recorded?.answer && recorded.agentId === agent.id) return recorded.answer
        throw notHeld(id, report.attempt)
      }
      const db = txBossDb(tx)
      let status: Instruction['status']
      let error: unknown = report.error ?? null
      // A success completes its job in the statement that records it.
      let completion: Statement | undefined
      if (report.status === 'succeeded') {
        completion = completeJob(this.#c.db, row.queue, id)
        status = 'succeeded'
      } else if (report.status === 'cancelled' || row.cancelRequested) {
        await this.#c.boss.cancel(row.queue, id, { db })
        status = report.status === 'failed' ? 'failed' : 'cancelled'
      } else if (report.error?.retryable === false) {
        // The plugin said retrying cannot help: fail now, without using up retries.
        await this.#c.boss.cancel(row.queue, id, { db })
        status = 'failed'
      } else {
        error = report.error ?? { code: 'STAVILY_ERR_FAILED', message: 'the attempt failed' }
        status = await failJob(this.#c, tx, row.queue, id, error)
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
      recordedNow = true
      if (row.runId !== null && row.stepId !== null) {
        if (status === 'queued') {
          await this.#c.hooks?.requeued(tx, [
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
          if (this.#c.hooks) after = await this.#c.hooks.finished(tx, outcome, row.lockedRun)
        }
      }
      return answer
    })
    if (recordedNow)
      this.#c.metrics.countResult(answer.instructionStatus === 'queued' ? 'retried' : report.status)
    after?.()
    if (wakeQueue) await this.#c.wake(wakeQueue)
    return answer
  }
}
