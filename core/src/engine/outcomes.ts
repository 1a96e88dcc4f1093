import { run, type SqlClient } from '../db/sql-client.ts'
import { LIMITS } from '../defaults.ts'
import type { StepHooks } from '../queue/dispatcher.ts'
import type { InstructionOutcome } from '../types.ts'
import { allowedFrom, type StepState, type StepStatus } from '../workflows/index.ts'
import { advance, desiredVersions, pluginsOf } from './advance.ts'
import type { EngineCore, LockedRun } from './core.ts'
import { Effects } from './effects.ts'
import * as plans from './plans.ts'

// What the dispatcher tells the engine, inside its own transactions (its one channel, the
// step hooks): a step's instruction leased, requeued for another attempt, or finished —
// recorded on the step, and the run advanced, in the transaction that records it.

export class Outcomes {
  readonly #c: EngineCore

  constructor(core: EngineCore) {
    this.#c = core
  }

  /** The dispatcher's step hooks. */
  hooks(): StepHooks {
    const stream = this.#c.d.stream
    return {
      leased: async (tx, instructions) => {
        const { rows } = await run<{ runId: string; stepId: string; attempt: number; orgId: string }>(
          tx,
          plans.stepsLeased(instructions.map((i) => ({ id: i.id, attempt: i.attempt }))),
        )
        for (const r of rows)
          stream.publish(r.orgId, {
            type: 'step',
            data: { runId: r.runId, step: r.stepId, status: 'running', attempt: r.attempt },
          })
      },
      requeued: async (tx, items) => {
        const { rows } = await run<{ runId: string; stepId: string; attempt: number; orgId: string }>(
          tx,
          plans.stepsRequeued(items),
        )
        for (const r of rows)
          stream.publish(r.orgId, {
            type: 'step',
            data: { runId: r.runId, step: r.stepId, status: 'queued', attempt: r.attempt },
          })
      },
      // Results, expired leases and cancelled queued work: recorded in the dispatcher's own transaction.
      finished: async (tx, o, lockedRun) => {
        const fx = new Effects()
        await this.record(tx, o, fx, lockedRun as LockedRun | null | undefined)
        return () => this.#c.after(fx)
      },
    }
  }

  // A step's instruction finished: record it on the step and advance the run, in `tx`: the
  // run's lock, then one statement that records the step and reads what advancing needs.
  async record(tx: SqlClient, o: InstructionOutcome, fx: Effects, locked?: LockedRun | null): Promise<void> {
    if (!o.runId || !o.stepId) return
    const to: StepStatus =
      o.status === 'succeeded'
        ? 'succeeded'
        : o.status === 'cancelled'
          ? 'cancelled'
          : o.error?.code === 'STAVILY_ERR_STEP_TIMEOUT'
            ? 'timed_out'
            : 'failed'
    // The run's lock first, always: two outcomes of one run take turns. A result's first
    // statement took it already (instructionForResult); an expiry or a cancel takes it here.
    const r = locked ?? (await run<LockedRun>(tx, plans.lockRun(o.orgId, o.runId))).rows[0]
    if (!r) return
    const workflow = await this.#c.definition(tx, r.workflowId, r.workflowVersion)
    const plugins = pluginsOf(workflow)
    const read = (
      await run<{
        done: { stepId: string; attempt: number } | null
        steps: ({ stepId: string } & StepState)[]
        desired: { pool: string; name: string; version: string }[]
      }>(tx, plans.finishStepAndRead(o.id, to, allowedFrom('step', to), o.output, o.error, r, plugins))
    ).rows[0]
    const done = read?.done
    if (!read || !done) return
    fx.record(
      r.org,
      `step.${to}`,
      r.id,
      { step: o.stepId, attempt: done.attempt, ...(o.error ? { error: o.error } : {}) },
      undefined,
      streamedOutput(o.output),
    )
    const steps: Record<string, StepState> = {}
    for (const s of read.steps) steps[s.stepId] = { status: s.status, output: s.output, error: s.error }
    // The statement read the steps as they were before its own update.
    steps[done.stepId] = { status: to, output: o.output ?? null, error: o.error ?? null }
    await advance(tx, this.#c.d, r, workflow, fx, steps, desiredVersions(plugins, read.desired))
    await this.#c.flush(tx, fx)
  }

  async apply(o: InstructionOutcome): Promise<void> {
    const fx = new Effects()
    await this.#c.d.db.sql.transaction((tx) => this.record(tx, o, fx))
    this.#c.after(fx)
  }
}

/** A step's output for its stream event: whole when small, else only that it was left out. */
function streamedOutput(output: unknown): Record<string, unknown> {
  if (output === undefined || output === null) return {}
  const size = JSON.stringify(output).length
  return size <= LIMITS.streamOutputMax ? { output } : { outputOmitted: true, outputSize: size }
}
