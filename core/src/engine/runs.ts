import { randomUUID } from 'node:crypto'
import { checkOrg, isUuid } from '../checks.ts'
import { run, type SqlClient, type Statement } from '../db/sql-client.ts'
import { StavilyError } from '../errors.ts'
import type { Workflow, WorkflowEvent } from '../workflows/index.ts'
import { advance, desiredVersions, pluginsOf } from './advance.ts'
import type { EngineCore, Head, Row } from './core.ts'
import { Effects } from './effects.ts'
import * as plans from './plans.ts'
import { getRun, type RunRecord, toRun } from './run-records.ts'
import type { Actor } from './types.ts'

// A run's life outside its steps' outcomes: created (started at once, or queued behind the
// workflow's concurrency limit), started from the queue when a slot frees, cancelled, retried.

export class RunLifecycle {
  readonly #c: EngineCore

  constructor(core: EngineCore) {
    this.#c = core
    core.startQueued = (orgId, workflowId) => this.startQueued(orgId, workflowId)
  }

  // `event` may be read inside the run's transaction (a debounce window taken atomically with
  // the run it starts); when that read finds nothing, no run is created.
  async create(
    head: Head,
    workflow: Workflow,
    event: WorkflowEvent,
    dedupeKey: string | null,
    actor: Actor,
    version?: number,
    priority?: number,
  ): Promise<RunRecord>
  async create(
    head: Head,
    workflow: Workflow,
    event: (tx: SqlClient) => Promise<WorkflowEvent | null>,
    dedupeKey: string | null,
    actor: Actor,
    version?: number,
    priority?: number,
  ): Promise<RunRecord | null>
  async create(
    head: Head,
    workflow: Workflow,
    eventOrRead: WorkflowEvent | ((tx: SqlClient) => Promise<WorkflowEvent | null>),
    dedupeKey: string | null,
    actor: Actor,
    version = head.version,
    priority = 0,
  ): Promise<RunRecord | null> {
    const fx = new Effects()
    const limited = workflow.concurrency !== null
    await this.#c.ensureQueues(head.orgId, workflow)
    const r = await this.#c.d.db.sql.transaction(async (tx) => {
      const event = typeof eventOrRead === 'function' ? await eventOrRead(tx) : eventOrRead
      if (!event) return null
      const insert = plans.insertRun({
        id: randomUUID(),
        org: head.orgId,
        workflowId: head.id,
        version,
        event,
        dedupeKey,
        running: !limited,
        priority,
      })
      // Without a dedupe key the insert cannot conflict, and a run that starts at once is
      // created with its first steps, their instructions and audit entries in one statement.
      if (dedupeKey === null && !limited)
        return this.#createStarted(tx, head, workflow, event, insert, fx, actor)
      const { rows } = await run<Row<RunRecord>>(tx, insert)
      const created = rows[0]
      if (!created) {
        // The same event already started a run: that run is the answer.
        return (await run<Row<RunRecord>>(tx, plans.runByDedupeKey(head.orgId, head.id, dedupeKey!))).rows[0]!
      }
      const info = { workflowId: head.id, workflow: head.name, version }
      fx.record(head.orgId, 'run.queued', created.id, info, actor)
      if (!limited) {
        fx.record(head.orgId, 'run.started', created.id, info)
        // The head read the desired versions of its current version's plugins (a retry of an
        // older version reads its own).
        const versions =
          version === head.version ? desiredVersions(pluginsOf(workflow), head.desired) : undefined
        await advance(tx, this.#c.d, created, workflow, fx, {}, versions)
      }
      await this.#c.flush(tx, fx)
      return created
    })
    if (!r) return null
    this.#c.after(fx)
    if (limited) await this.startQueued(head.orgId, head.id)
    return toRun(r)
  }

  // A run that starts at once and cannot conflict: planned before its row exists (its id,
  // event and version are known), then its insert and everything its first steps write go
  // together. A run that finished at once (every step skipped) is inserted first instead:
  // its finishing update must see the row.
  async #createStarted(
    tx: SqlClient,
    head: Head,
    workflow: Workflow,
    event: WorkflowEvent,
    insert: Statement,
    fx: Effects,
    actor: Actor,
  ): Promise<Row<RunRecord>> {
    const [id, , , version, , , , priority] = insert.values as [string, string, string, number, ...unknown[]]
    const draft: RunRecord = {
      id,
      org: head.orgId,
      workflowId: head.id,
      workflowVersion: version,
      status: 'running',
      event,
      dedupeKey: null,
      createdAt: '',
      startedAt: null,
      finishedAt: null,
      priority: priority as number,
    }
    const info = { workflowId: head.id, workflow: head.name, version }
    fx.record(head.orgId, 'run.queued', id, info, actor)
    fx.record(head.orgId, 'run.started', id, info)
    const versions = version === head.version ? desiredVersions(pluginsOf(workflow), head.desired) : undefined
    await advance(tx, this.#c.d, draft, workflow, fx, {}, versions)
    const finished = fx.audit.some(
      (a) => a.action.startsWith('run.') && a.action !== 'run.queued' && a.action !== 'run.started',
    )
    if (finished) {
      const created = (await run<Row<RunRecord>>(tx, insert)).rows[0]!
      await this.#c.flush(tx, fx)
      return created
    }
    return (await this.#c.flush<Row<RunRecord>>(tx, fx, insert))[0]!
  }

  /** Starts queued runs of a workflow while its concurrency limit allows. */
  async startQueued(orgId: string, workflowId: string): Promise<number> {
    let started = 0
    for (;;) {
      const fx = new Effects()
      const more = await this.#c.d.db.sql.transaction(async (tx) => {
        // The workflow row's lock makes the count and the start one decision across instances.
        const w = (
          await run<{ id: string }>(tx, {
            text: 'SELECT id FROM workflows WHERE id = $1 FOR UPDATE',
            values: [workflowId],
          })
        ).rows[0]
        if (!w) return false
        const next = (await run<{ id: string }>(tx, plans.oldestQueued(orgId, workflowId, 1))).rows[0]
        if (!next) return false
        const r = (await run<Row<RunRecord>>(tx, plans.lockRun(orgId, next.id))).rows[0]!
        const workflow = await this.#c.definition(tx, r.workflowId, r.workflowVersion)
        const running = (await run<{ running: number }>(tx, plans.countRunning(workflowId))).rows[0]!.running
        if (workflow.concurrency !== null && running >= workflow.concurrency) return false
        await run(tx, {
          text: `UPDATE runs SET status = 'running', started_at = clock_timestamp() WHERE id = $1 AND status = 'queued'`,
          values: [r.id],
        })
        fx.record(orgId, 'run.started', r.id, { workflowId, version: r.workflowVersion })
        await advance(tx, this.#c.d, { ...r, status: 'running' }, workflow, fx, {})
        await this.#c.flush(tx, fx)
        return true
      })
      this.#c.after(fx)
      if (!more) return started
      started++
    }
  }

  async cancelRun(orgId: string, runId: string, actor: Actor): Promise<RunRecord> {
    const fx = new Effects()
    const org = checkOrg(orgId, undefined, 'orgId')
    const id = runIdOf(runId)
    const instructions: string[] = []
    const cancelled = await this.#c.d.db.sql.transaction(async (tx) => {
      const r = (await run<Row<RunRecord>>(tx, plans.lockRun(org, id))).rows[0]
      if (!r) throw new StavilyError('STAVILY_ERR_RUN_NOT_FOUND', `run ${id}: not found`)
      const row = (await run<Row<RunRecord>>(tx, plans.cancelRunRow(org, id))).rows[0]
      if (!row) {
        throw new StavilyError(
          'STAVILY_ERR_RUN_FINISHED',
          `run ${id}: already ${r.status}; only queued or running runs can be cancelled`,
        )
      }
      const steps = (
        await run<{ stepId: string; instructionId: string | null }>(tx, plans.cancelOpenSteps(id))
      ).rows
      for (const s of steps) {
        fx.record(org, 'step.cancelled', id, { step: s.stepId })
        if (s.instructionId) instructions.push(s.instructionId)
      }
      fx.record(org, 'run.cancelled', id, { workflowId: r.workflowId, version: r.workflowVersion }, actor)
      const workflow = await this.#c.definition(tx, r.workflowId, r.workflowVersion)
      if (workflow.concurrency !== null) fx.freed.set(r.workflowId, org)
      await this.#c.flush(tx, fx)
      return row
    })
    this.#c.after(fx)
    // After the run's commit, each in its own transaction: a result being recorded locks its
    // instruction and then the run, so taking them in the other order here could deadlock.
    // The agent holding one is told at its next heartbeat or poll; queued work never starts.
    // A crash in between is caught by the reconcile pass (orphanedInstructions).
    for (const i of instructions) await this.#c.d.dispatcher.cancel(org, i).catch(() => {})
    return toRun(cancelled)
  }

  async retryRun(orgId: string, runId: string, actor: Actor): Promise<RunRecord> {
    const org = checkOrg(orgId, undefined, 'orgId')
    const prior = await getRun(this.#c.d.db.sql, org, runIdOf(runId))
    if (!prior) throw new StavilyError('STAVILY_ERR_RUN_NOT_FOUND', `run ${runId}: not found`)
    const head = await this.#c.head(prior.workflowId)
    if (!head)
      throw new StavilyError('STAVILY_ERR_WORKFLOW_NOT_FOUND', `workflow ${prior.workflowId}: not found`)
    const workflow = await this.#c.definition(this.#c.d.db.sql, head.id, prior.workflowVersion)
    // The same version and event, whatever the workflow looks like now; no dedupe key, or
    // the retry would be the original run again.
    const event = { ...prior.event, dedupeKey: prior.event.dedupeKey ?? null }
    // The retry keeps the run's priority.
    return this.create(head, workflow, event, null, { ...actor }, prior.workflowVersion, prior.priority ?? 0)
  }
}

/** A run id, lower-cased; one that is not a UUID names no run (404, as for a run of another organization). */
function runIdOf(v: string): string {
  if (!isUuid(v)) throw new StavilyError('STAVILY_ERR_RUN_NOT_FOUND', `run ${JSON.stringify(v)}: not found`)
  return v.toLowerCase()
}
