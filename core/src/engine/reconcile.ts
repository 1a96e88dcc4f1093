import { run, type SqlClient } from '../db/sql-client.ts'
import type { InstructionOutcome } from '../types.ts'
import { purgeExpiredDeliveries, type StepState } from '../workflows/index.ts'
import { advance } from './advance.ts'
import type { EngineCore, LockedRun, Row } from './core.ts'
import { Effects } from './effects.ts'
import type { Outcomes } from './outcomes.ts'
import * as plans from './plans.ts'
import { ENGINE_POLICY } from './policy.ts'
import type { RunLifecycle } from './runs.ts'
import type { Schedules } from './schedules.ts'
import type { Windows } from './windows.ts'

// The pass that redoes what a crash, a restart or a lost hook left behind (on start and on
// every sweep).

/** A locked run's steps, read after the lock (see plans.lockRun). */
async function stepsOf(tx: SqlClient, r: LockedRun): Promise<Record<string, StepState>> {
  const out: Record<string, StepState> = {}
  for (const s of (
    await run<{ stepId: string } & StepState & Record<string, unknown>>(tx, plans.runSteps(r.id))
  ).rows)
    out[s.stepId] = { status: s.status, output: s.output, error: s.error }
  return out
}

export class Reconciler {
  readonly #c: EngineCore
  readonly #outcomes: Outcomes
  readonly #runs: RunLifecycle
  readonly #windows: Windows
  readonly #schedules: Schedules
  #count = 0

  constructor(
    core: EngineCore,
    outcomes: Outcomes,
    runs: RunLifecycle,
    windows: Windows,
    schedules: Schedules,
  ) {
    this.#c = core
    this.#outcomes = outcomes
    this.#runs = runs
    this.#windows = windows
    this.#schedules = schedules
  }

  /**
   * Finishes what hooks missed (a crash, a restart, a failed listener): steps whose
   * instruction finished, running runs with nothing in flight, queued runs with a free
   * slot, debounce windows past due. Safe on several instances at once: every move is
   * guarded by the run's lock and the state machine.
   */
  async reconcile(): Promise<void> {
    if (this.#c.closed) return
    const sql = this.#c.d.db.sql
    for (const o of (
      await run<Row<InstructionOutcome>>(sql, plans.missedOutcomes(ENGINE_POLICY.reconcileOutcomesBatch))
    ).rows) {
      await this.#outcomes.apply({ ...o, error: (o.error as InstructionOutcome['error']) ?? null })
    }
    for (const r of (
      await run<{ id: string; orgId: string }>(
        sql,
        plans.stalledRuns(ENGINE_POLICY.stalledAfterMs, ENGINE_POLICY.reconcileRunsBatch),
      )
    ).rows) {
      const fx = new Effects()
      await sql.transaction(async (tx) => {
        const locked = (await run<LockedRun>(tx, plans.lockRun(r.orgId, r.id))).rows[0]
        if (!locked) return
        const workflow = await this.#c.definition(tx, locked.workflowId, locked.workflowVersion)
        await advance(tx, this.#c.d, locked, workflow, fx, await stepsOf(tx, locked))
        await this.#c.flush(tx, fx)
      })
      this.#c.after(fx)
    }
    for (const w of (
      await run<{ orgId: string; workflowId: string }>(
        sql,
        plans.workflowsWithQueuedRuns(ENGINE_POLICY.reconcileQueuedBatch),
      )
    ).rows) {
      await this.#runs.startQueued(w.orgId, w.workflowId)
    }
    for (const w of (
      await run<{ orgId: string; workflowId: string; key: string }>(
        sql,
        plans.dueDebounces(ENGINE_POLICY.reconcileDebounceBatch),
      )
    ).rows) {
      await this.#windows.checkDebounce(w.orgId, w.workflowId, w.key)
    }
    await purgeExpiredDeliveries(sql)
    // Schedules applied through another instance get a worker here too (and one removed
    // there stops here), about once a minute at the default interval.
    if (this.#c.d.background && ++this.#count % ENGINE_POLICY.scheduleSyncEvery === 0)
      await this.#schedules.syncAll()
    await this.#c.d.audit.drain()
  }
}
