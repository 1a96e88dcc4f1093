import type { SqlClient } from '../db/sql-client.ts'
import type { Workflow, WorkflowEvent } from '../workflows/index.ts'
import type { Headers } from '../workflows/webhook/providers/types.ts'
import { EngineCore, type EngineDeps } from './core.ts'
import { Intake } from './intake.ts'
import { Outcomes } from './outcomes.ts'
import { ENGINE_POLICY } from './policy.ts'
import { Reconciler } from './reconcile.ts'
import type { RunRecord } from './run-records.ts'
import { RunLifecycle } from './runs.ts'
import { Schedules } from './schedules.ts'
import type { Actor, Engine, WebhookAnswer } from './types.ts'
import { DEBOUNCE_QUEUE, Windows } from './windows.ts'

// The workflow engine: events in (webhooks, sensor events, schedules, operators), runs out.
// Every decision is planNext's; the engine persists it. Each change to a run happens in one
// transaction that holds the run's row lock, together with its steps, their instructions
// and their audit entries, so a crash leaves nothing half done; what happens after a
// commit (waking agents, the live stream) is best effort, and the reconcile pass (on start
// and on every sweep) redoes whatever a crash or a lost hook left behind.
//
// Its parts, one file each: intake.ts (events in), windows.ts (filter, debounce, throttle),
// runs.ts (create, start queued, cancel, retry), outcomes.ts (the dispatcher's step hooks),
// reconcile.ts, over core.ts (what they share). This class wires them.

export { DEBOUNCE_QUEUE, type EngineDeps }

export class WorkflowEngine implements Engine {
  readonly #core: EngineCore
  readonly #runs: RunLifecycle
  readonly #windows: Windows
  readonly #intake: Intake
  readonly #outcomes: Outcomes
  readonly #reconciler: Reconciler
  readonly schedules: Schedules

  constructor(deps: EngineDeps) {
    this.#core = new EngineCore(deps)
    this.#runs = new RunLifecycle(this.#core)
    this.#windows = new Windows(this.#core, this.#runs)
    this.#intake = new Intake(this.#core, this.#runs, this.#windows)
    this.#outcomes = new Outcomes(this.#core)
    this.schedules = new Schedules(deps.boss, deps.db, (orgId, workflowId, at, key) =>
      this.fireSchedule(orgId, workflowId, at, key),
    )
    this.#reconciler = new Reconciler(this.#core, this.#outcomes, this.#runs, this.#windows, this.schedules)
  }

  async start(): Promise<void> {
    const d = this.#core.d
    d.dispatcher.setStepHooks(this.#outcomes.hooks())
    d.events.onStored((orgId, ids) => this.#core.track(this.#intake.onEvents(orgId, ids)))
    if (d.background) {
      await d.boss.createQueue(DEBOUNCE_QUEUE, { name: DEBOUNCE_QUEUE, retryLimit: 5, retryDelay: 1 })
      await d.boss.work<{ orgId: string; workflowId: string; key: string }>(
        DEBOUNCE_QUEUE,
        { pollingIntervalSeconds: ENGINE_POLICY.workerPollSeconds, batchSize: 20 },
        async (jobs) => {
          for (const j of jobs) await this.checkDebounce(j.data.orgId, j.data.workflowId, j.data.key)
        },
      )
      await this.schedules.syncAll()
      await this.reconcile()
    }
  }

  async close(): Promise<void> {
    this.#core.closed = true
    this.#core.d.dispatcher.setStepHooks(undefined)
    await this.#core.drain()
  }

  definition(sql: SqlClient, workflowId: string, version: number): Promise<Workflow> {
    return this.#core.definition(sql, workflowId, version)
  }

  ingestWebhook(
    workflowId: string,
    rawBody: Buffer,
    headers: Headers,
    ip: string | null,
    body?: unknown,
  ): Promise<WebhookAnswer> {
    return this.#intake.ingestWebhook(workflowId, rawBody, headers, ip, body)
  }

  startRun(
    orgId: string,
    workflowId: string,
    event: WorkflowEvent,
    actor: Actor,
    opts: { priority?: number; requireEnabled?: boolean } = {},
  ): Promise<RunRecord | null> {
    return this.#intake.startRun(orgId, workflowId, event, actor, opts)
  }

  /** A schedule fired (the cron worker, or a test): one run per firing (`key` dedupes a redelivered job). */
  fireSchedule(orgId: string, workflowId: string, at: Date, key: string): Promise<RunRecord | null> {
    return this.#intake.fireSchedule(orgId, workflowId, at, key)
  }

  /** A debounce window's check: starts its run when it has been quiet for the whole window. */
  checkDebounce(orgId: string, workflowId: string, key: string): Promise<RunRecord | null> {
    return this.#windows.checkDebounce(orgId, workflowId, key)
  }

  /** Starts queued runs of a workflow while its concurrency limit allows. */
  startQueued(orgId: string, workflowId: string): Promise<number> {
    return this.#runs.startQueued(orgId, workflowId)
  }

  cancelRun(orgId: string, runId: string, actor: Actor): Promise<RunRecord> {
    return this.#runs.cancelRun(orgId, runId, actor)
  }

  retryRun(orgId: string, runId: string, actor: Actor): Promise<RunRecord> {
    return this.#runs.retryRun(orgId, runId, actor)
  }

  /** Finishes what hooks missed (see reconcile.ts). */
  reconcile(): Promise<void> {
    return this.#reconciler.reconcile()
  }
}
