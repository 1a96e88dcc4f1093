import { randomUUID } from 'node:crypto'
import type PgBoss from 'pg-boss'
import { outboxStatement } from '../audit/outbox.ts'
import type { Tuning } from '../config.ts'
import * as eventPlans from '../db/plans/events.ts'
import { type Database, run, type SqlClient } from '../db/sql-client.ts'
import { StavilyError } from '../errors.ts'
import { evaluateCondition, parseCondition, renderTemplate } from '../expressions/index.ts'
import type { Dispatcher, StepHooks } from '../queue/dispatcher.ts'
import { instructionQueue } from '../queue/queue-names.ts'
import type { SecretStore } from '../secrets/index.ts'
import type { AuditLog } from '../services/audit-log.ts'
import type { Events } from '../services/events.ts'
import type { LiveStream } from '../services/live-stream.ts'
import type { InstructionOutcome } from '../types.ts'
import {
  acceptDelivery,
  allowedFrom,
  debounceEvent,
  expressionContext,
  matchSignature,
  parseSignature,
  purgeExpiredDeliveries,
  type StepState,
  type StepStatus,
  takeDebounced,
  throttleEvent,
  type Workflow,
  type WorkflowEvent,
  windowKeyText,
} from '../workflows/index.ts'
import {
  authenticateProvider,
  offersProviderCredential,
  type WebhookProvider,
} from '../workflows/webhook/providers/index.ts'
import type { Headers } from '../workflows/webhook/providers/types.ts'
import { SIGNATURE_HEADER } from '../workflows/webhook/signature.ts'
import { advance, desiredVersions, pluginsOf } from './advance.ts'
import { combine } from './batch.ts'
import { Effects } from './effects.ts'
import * as plans from './plans.ts'
import { ENGINE_POLICY } from './policy.ts'
import { getRun, type RunRecord, toRun } from './run-records.ts'
import { Schedules } from './schedules.ts'
import { type Actor, type Engine, SYSTEM, type WebhookAnswer } from './types.ts'

// The workflow engine: events in (webhooks, sensor events, schedules, operators), runs out.
// Every decision is planNext's; this class persists it. Each change to a run happens in one
// transaction that holds the run's row lock, together with its steps, their instructions
// and their audit entries, so a crash leaves nothing half done; what happens after a
// commit (waking agents, the live stream) is best effort, and the reconcile pass (on start
// and on every sweep) redoes whatever a crash or a lost hook left behind.

export const DEBOUNCE_QUEUE = 'stavily.engine.debounce'

export interface EngineDeps {
  db: Database
  boss: PgBoss
  dispatcher: Dispatcher
  events: Events
  secrets: SecretStore
  audit: AuditLog
  stream: LiveStream
  tuning: Tuning
  /** Run schedules, the debounce worker and reconcile on start (false: tests drive them). */
  background: boolean
}

type Head = {
  id: string
  orgId: string
  name: string
  enabled: boolean
  version: number
  /** The pools' desired versions of the plugins the current version runs (see plans.workflowHead). */
  desired: { pool: string; name: string; version: string }[]
}

const DEFINITION_CACHE = ENGINE_POLICY.definitionCache

type Row<T> = T & Record<string, unknown>
type LockedRun = Row<RunRecord>

/** A locked run's steps, read after the lock (see plans.lockRun). */
async function stepsOf(tx: SqlClient, r: LockedRun): Promise<Record<string, StepState>> {
  const out: Record<string, StepState> = {}
  for (const s of (
    await run<{ stepId: string } & StepState & Record<string, unknown>>(tx, plans.runSteps(r.id))
  ).rows)
    out[s.stepId] = { status: s.status, output: s.output, error: s.error }
  return out
}

export class WorkflowEngine implements Engine {
  readonly #d: EngineDeps
  // Saved versions never change, so their definitions are cached by (id, version).
  readonly #definitions = new Map<string, Workflow>()
  readonly #pending = new Set<Promise<unknown>>()
  readonly schedules: Schedules
  #closed = false
  #reconciles = 0

  constructor(deps: EngineDeps) {
    this.#d = deps
    this.schedules = new Schedules(deps.boss, deps.db, (orgId, workflowId, at, key) =>
      this.fireSchedule(orgId, workflowId, at, key),
    )
  }

  async start(): Promise<void> {
    const d = this.#d
    const hooks: Omit<StepHooks, 'finished'> = {
      leased: async (tx, instructions) => {
        const { rows } = await run<{ runId: string; stepId: string; attempt: number; orgId: string }>(
          tx,
          plans.stepsLeased(instructions.map((i) => ({ id: i.id, attempt: i.attempt }))),
        )
        for (const r of rows)
          d.stream.publish(r.orgId, {
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
          d.stream.publish(r.orgId, {
            type: 'step',
            data: { runId: r.runId, step: r.stepId, status: 'queued', attempt: r.attempt },
          })
      },
    }
    d.dispatcher.setStepHooks({
      ...hooks,
      // Results, expired leases and cancelled queued work: recorded in the dispatcher's own transaction.
      finished: async (tx, o) => {
        const fx = new Effects()
        await this.#recordOutcome(tx, o, fx)
        return () => this.#after(fx)
      },
    })
    d.events.onStored((orgId, ids) => this.#track(this.#onEvents(orgId, ids)))
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

  // Work started by a hook is tracked so close() can wait for it.
  #track(p: Promise<unknown>): void {
    const q = p.catch(() => {
      // Whatever failed here is redone by the reconcile pass.
    })
    this.#pending.add(q)
    void q.finally(() => this.#pending.delete(q))
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#d.dispatcher.setStepHooks(undefined)
    while (this.#pending.size > 0) await Promise.all([...this.#pending])
  }

  // pg-boss queues are created outside any transaction: on PGlite's single connection a
  // creation inside one would wait for that same transaction to end.
  async #ensureQueues(orgId: string, workflow: Workflow): Promise<void> {
    const pools = new Set([...workflow.actions, ...workflow.outputs].map((s) => s.pool))
    for (const pool of pools) await this.#d.dispatcher.ensureQueue(instructionQueue(orgId, 'action', pool))
  }

  // ---- definitions ------------------------------------------------------------------------

  async definition(sql: SqlClient, workflowId: string, version: number): Promise<Workflow> {
    const key = `${workflowId}:${version}`
    const hit = this.#definitions.get(key)
    if (hit) return hit
    const { rows } = await run<{ definition: Workflow }>(sql, plans.workflowDefinition(workflowId, version))
    if (!rows[0])
      throw new StavilyError(
        'STAVILY_ERR_WORKFLOW_NOT_FOUND',
        `workflow ${workflowId} version ${version}: not found`,
      )
    if (this.#definitions.size >= DEFINITION_CACHE)
      this.#definitions.delete(this.#definitions.keys().next().value as string)
    this.#definitions.set(key, rows[0].definition)
    return rows[0].definition
  }

  async #head(workflowId: string): Promise<Head | undefined> {
    if (!UUID.test(workflowId)) return undefined
    return (await run<Head>(this.#d.db.sql, plans.workflowHead(workflowId))).rows[0]
  }

  // ---- events in -----------------------------------------------------------------------------

  async ingestWebhook(
    workflowId: string,
    rawBody: Buffer,
    headers: Headers,
    ip: string | null,
  ): Promise<WebhookAnswer> {
    const stavilyHeader =
      typeof headers[SIGNATURE_HEADER] === 'string' ? headers[SIGNATURE_HEADER] : undefined
    if (stavilyHeader === undefined && offersProviderCredential(headers))
      return this.#ingestFromProvider(workflowId, rawBody, headers, ip)
    const refuse = (check: { reason: string; message: string }): never => {
      throw new StavilyError('STAVILY_ERR_WEBHOOK_SIGNATURE', `stavily-signature: ${check.message}`, {
        data: { field: 'stavily-signature', reason: check.reason },
      })
    }
    // Until the signature verifies, a missing hook, one that is no webhook, one whose secret
    // is not set and a wrong signature get the same 401: an unsigned caller learns neither
    // which hooks exist nor the name of their secret. A disabled hook is said so only to a
    // caller who proved it knows the secret.
    const parsed = parseSignature(stavilyHeader)
    if (!parsed.ok) return refuse(parsed)
    const hook = await this.#hook(workflowId, 'stavily')
    const check = matchSignature(parsed, { secret: hook.secret, workflowId, body: rawBody })
    if (!check.ok || !hook.head || !hook.workflow)
      return refuse(check.ok ? { reason: 'mismatch', message: '' } : check)
    const { head, workflow } = hook
    this.#refuseDisabled(head, workflowId)
    const event: WorkflowEvent = {
      source: 'webhook',
      type: 'webhook',
      data: jsonBody(rawBody),
      dedupeKey: null,
      occurredAt: new Date().toISOString(),
    }
    // The delivery is recorded in the transaction that acts on it: if that fails, nothing
    // remembers the signature and the sender's retry is accepted, not refused as a replay.
    const claim = async (tx: SqlClient): Promise<void> => {
      if (!(await acceptDelivery(tx, head.id, check))) {
        throw new StavilyError(
          'STAVILY_ERR_WEBHOOK_REPLAY',
          'stavily-signature: this signature was already accepted (a replay); sign each request anew',
          { data: { field: 'stavily-signature' } },
        )
      }
    }
    return this.#consider(head, workflow, event, { type: 'system', id: null, ip }, null, claim)
  }

  /**
   * A request from a forge or Alertmanager (webhook/providers): authenticated by the
   * provider's own header, one run per event it carries. These senders sign no timestamp,
   * so replays are stopped by each event's dedupe key (the run it started is answered again).
   */
  async #ingestFromProvider(
    workflowId: string,
    rawBody: Buffer,
    headers: Headers,
    ip: string | null,
  ): Promise<WebhookAnswer> {
    const hook = await this.#hook(workflowId)
    const check = authenticateProvider(hook.provider, { headers, body: rawBody, secret: hook.secret })
    if (!check.ok || !hook.head || !hook.workflow) {
      throw new StavilyError(
        'STAVILY_ERR_WEBHOOK_SIGNATURE',
        check.ok ? 'the request does not verify' : check.message,
        {
          data: { field: 'headers', reason: 'mismatch' },
        },
      )
    }
    const { head, workflow } = hook
    this.#refuseDisabled(head, workflowId)
    const events = check.provider.events({ headers, body: rawBody, secret: hook.secret }, jsonBody(rawBody))
    const actor: Actor = { type: 'system', id: null, ip }
    const answers: WebhookAnswer[] = []
    for (const event of events)
      answers.push(await this.#consider(head, workflow, event, actor, event.dedupeKey))
    const runIds = answers.flatMap((a) => (a.runId ? [a.runId] : []))
    const first = answers[0]
    if (events.length === 1 && first) return first
    return {
      accepted: true,
      runId: runIds[0] ?? null,
      runIds,
      ...(runIds.length === 0 ? { reason: 'filtered' } : {}),
    }
  }

  /** The hook's workflow, its provider and secret; empty fields when there is no such webhook hook. */
  async #hook(workflowId: string, only?: WebhookProvider) {
    const head = await this.#head(workflowId)
    const workflow = head ? await this.definition(this.#d.db.sql, head.id, head.version) : undefined
    const trigger = workflow?.trigger.kind === 'webhook' ? workflow.trigger : undefined
    // Versions saved before providers existed have none: they were Stavily-signed.
    const provider = trigger ? (trigger.provider ?? 'stavily') : undefined
    const usable = trigger && (only === undefined || provider === only)
    const secret =
      head && usable
        ? (await this.#d.secrets.getExisting(head.orgId, [trigger.secret]))[trigger.secret]
        : undefined
    return { head, workflow: usable ? workflow : undefined, provider: usable ? provider : undefined, secret }
  }

  #refuseDisabled(head: Head, workflowId: string): void {
    if (!head.enabled) {
      throw new StavilyError(
        'STAVILY_ERR_WEBHOOK_DISABLED',
        `webhook ${workflowId}: its workflow ${head.name} is disabled`,
      )
    }
  }

  /**
   * Starts a run from a supplied event (the filter applies: null when it is false). A manual
   * run (`requireEnabled`) refuses a disabled workflow; `priority` orders its steps' claims.
   */
  async startRun(
    orgId: string,
    workflowId: string,
    event: WorkflowEvent,
    actor: Actor,
    opts: { priority?: number; requireEnabled?: boolean } = {},
  ): Promise<RunRecord | null> {
    const head = await this.#head(workflowId)
    if (!head || head.orgId !== orgId.toLowerCase())
      throw new StavilyError('STAVILY_ERR_WORKFLOW_NOT_FOUND', `workflow ${workflowId}: not found`)
    if (opts.requireEnabled && !head.enabled)
      throw new StavilyError(
        'STAVILY_ERR_WORKFLOW_DISABLED',
        `workflow ${head.name}: is disabled; enable it first (stavily workflow enable ${head.name})`,
      )
    const workflow = await this.definition(this.#d.db.sql, head.id, head.version)
    if (!passes(workflow, event)) return null
    return this.#createRun(head, workflow, event, null, actor, head.version, opts.priority ?? 0)
  }

  /** A schedule fired (the cron worker, or a test): one run per firing (`key` dedupes a redelivered job). */
  async fireSchedule(orgId: string, workflowId: string, at: Date, key: string): Promise<RunRecord | null> {
    const head = await this.#head(workflowId)
    if (!head || head.orgId !== orgId || !head.enabled) return null
    const workflow = await this.definition(this.#d.db.sql, head.id, head.version)
    if (workflow.trigger.kind !== 'schedule') return null
    const event: WorkflowEvent = {
      source: 'schedule',
      type: 'schedule.fired',
      data: { scheduledAt: at.toISOString() },
      dedupeKey: `schedule:${key}`,
      occurredAt: at.toISOString(),
    }
    return this.#createRun(head, workflow, event, event.dedupeKey ?? null, SYSTEM)
  }

  async #onEvents(orgId: string, ids: string[]): Promise<void> {
    const { rows } = await run<{
      id: string
      sensorId: string
      source: string
      type: string
      data: unknown
      dedupeKey: string
      occurredAt: Date
    }>(this.#d.db.sql, eventPlans.sensorEvents(orgId, ids))
    for (const e of rows) {
      const head = await this.#head(e.sensorId)
      if (!head || head.orgId !== orgId || !head.enabled) continue
      const workflow = await this.definition(this.#d.db.sql, head.id, head.version)
      if (workflow.trigger.kind !== 'sensor') continue
      await this.#consider(
        head,
        workflow,
        {
          source: e.source,
          type: e.type,
          data: e.data,
          dedupeKey: e.dedupeKey,
          occurredAt: new Date(e.occurredAt).toISOString(),
        },
        SYSTEM,
        `event:${e.id}`,
      )
    }
  }

  // The filter, then the debounce or throttle window, then a run.
  // `claim` (a webhook delivery's replay record) runs in the transaction that records the
  // outcome, whichever it is: filtered, a debounce window, a throttle window, or the run.
  async #consider(
    head: Head,
    workflow: Workflow,
    event: WorkflowEvent,
    actor: Actor,
    dedupeKey: string | null = null,
    claim?: (tx: SqlClient) => Promise<void>,
  ): Promise<WebhookAnswer> {
    const filtered = async (): Promise<WebhookAnswer> => {
      if (claim) await this.#d.db.sql.transaction(claim)
      return { accepted: true, runId: null, reason: 'filtered' }
    }
    if (!passes(workflow, event)) return filtered()
    const window = workflow.debounce ?? workflow.throttle
    let key = ''
    if (window?.key) {
      try {
        key = windowKeyText(renderTemplate(window.key, expressionContext(event)))
      } catch {
        return filtered()
      }
    }
    if (workflow.debounce) {
      const debounce = workflow.debounce
      const w = await this.#d.db.sql.transaction(async (tx) => {
        await claim?.(tx)
        return debounceEvent(tx, { workflowId: head.id, key, windowMs: debounce.windowMs, event })
      })
      if (w.opened) await this.#scheduleDebounce(head.orgId, head.id, key, new Date(w.closesAt))
      return { accepted: true, runId: null, reason: 'debounced' }
    }
    // The throttle window is counted in the run's transaction: an event that fails to start
    // its run does not use up the window.
    let throttled = false
    const r = await this.#createRun(
      head,
      workflow,
      async (tx) => {
        await claim?.(tx)
        if (workflow.throttle) {
          const t = await throttleEvent(tx, {
            workflowId: head.id,
            key,
            windowMs: workflow.throttle.windowMs,
          })
          if (!t.start) {
            throttled = true
            return null
          }
        }
        return event
      },
      dedupeKey,
      actor,
    )
    if (!r) return { accepted: true, runId: null, reason: throttled ? 'throttled' : 'filtered' }
    return { accepted: true, runId: r.id }
  }

  async #scheduleDebounce(orgId: string, workflowId: string, key: string, at: Date): Promise<void> {
    await this.#d.boss.sendAfter(DEBOUNCE_QUEUE, { orgId, workflowId, key }, {}, at)
  }

  /** A debounce window's check: starts its run when it has been quiet for the whole window. */
  async checkDebounce(orgId: string, workflowId: string, key: string): Promise<RunRecord | null> {
    const head = await this.#head(workflowId)
    if (!head?.enabled) {
      // A disabled workflow starts nothing: a due window is closed without a run.
      await takeDebounced(this.#d.db.sql, { workflowId, key })
      return null
    }
    const workflow = await this.definition(this.#d.db.sql, head.id, head.version)
    let closesAt: string | null = null
    // The window is taken (deleted) in the transaction that creates its run: a crash leaves
    // both or neither, so a quiet window always starts exactly one run.
    const r = await this.#createRun(
      head,
      workflow,
      async (tx) => {
        const check = await takeDebounced(tx, { workflowId, key })
        if (check.due) return check.event
        closesAt = check.closesAt
        return null
      },
      null,
      SYSTEM,
    )
    if (closesAt) await this.#scheduleDebounce(orgId, workflowId, key, new Date(closesAt))
    return r
  }

  // ---- runs ---------------------------------------------------------------------------------

  // `event` may be read inside the run's transaction (a debounce window taken atomically with
  // the run it starts); when that read finds nothing, no run is created.
  async #createRun(
    head: Head,
    workflow: Workflow,
    event: WorkflowEvent,
    dedupeKey: string | null,
    actor: Actor,
    version?: number,
    priority?: number,
  ): Promise<RunRecord>
  async #createRun(
    head: Head,
    workflow: Workflow,
    event: (tx: SqlClient) => Promise<WorkflowEvent | null>,
    dedupeKey: string | null,
    actor: Actor,
    version?: number,
    priority?: number,
  ): Promise<RunRecord | null>
  async #createRun(
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
    await this.#ensureQueues(head.orgId, workflow)
    const r = await this.#d.db.sql.transaction(async (tx) => {
      const event = typeof eventOrRead === 'function' ? await eventOrRead(tx) : eventOrRead
      if (!event) return null
      const { rows } = await run<Row<RunRecord>>(
        tx,
        plans.insertRun({
          id: randomUUID(),
          org: head.orgId,
          workflowId: head.id,
          version,
          event,
          dedupeKey,
          running: !limited,
          priority,
        }),
      )
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
        await advance(tx, this.#d, created, workflow, fx, {}, versions)
      }
      await this.#flush(tx, fx)
      return created
    })
    if (!r) return null
    this.#after(fx)
    if (limited) await this.startQueued(head.orgId, head.id)
    return toRun(r)
  }

  /** Starts queued runs of a workflow while its concurrency limit allows. */
  async startQueued(orgId: string, workflowId: string): Promise<number> {
    let started = 0
    for (;;) {
      const fx = new Effects()
      const more = await this.#d.db.sql.transaction(async (tx) => {
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
        const workflow = await this.definition(tx, r.workflowId, r.workflowVersion)
        const running = (await run<{ running: number }>(tx, plans.countRunning(workflowId))).rows[0]!.running
        if (workflow.concurrency !== null && running >= workflow.concurrency) return false
        await run(tx, {
          text: `UPDATE runs SET status = 'running', started_at = clock_timestamp() WHERE id = $1 AND status = 'queued'`,
          values: [r.id],
        })
        fx.record(orgId, 'run.started', r.id, { workflowId, version: r.workflowVersion })
        await advance(tx, this.#d, { ...r, status: 'running' }, workflow, fx, {})
        await this.#flush(tx, fx)
        return true
      })
      this.#after(fx)
      if (!more) return started
      started++
    }
  }

  // A step's instruction finished: record it on the step and advance the run, in `tx`: the
  // run's lock, then one statement that records the step and reads what advancing needs.
  async #recordOutcome(tx: SqlClient, o: InstructionOutcome, fx: Effects): Promise<void> {
    if (!o.runId || !o.stepId) return
    const to: StepStatus =
      o.status === 'succeeded'
        ? 'succeeded'
        : o.status === 'cancelled'
          ? 'cancelled'
          : o.error?.code === 'STAVILY_ERR_STEP_TIMEOUT'
            ? 'timed_out'
            : 'failed'
    // The run's lock first, always: two outcomes of one run take turns.
    const r = (await run<LockedRun>(tx, plans.lockRun(o.orgId, o.runId))).rows[0]
    if (!r) return
    const workflow = await this.definition(tx, r.workflowId, r.workflowVersion)
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
    fx.record(r.org, `step.${to}`, r.id, {
      step: o.stepId,
      attempt: done.attempt,
      ...(o.error ? { error: o.error } : {}),
    })
    const steps: Record<string, StepState> = {}
    for (const s of read.steps) steps[s.stepId] = { status: s.status, output: s.output, error: s.error }
    // The statement read the steps as they were before its own update.
    steps[done.stepId] = { status: to, output: o.output ?? null, error: o.error ?? null }
    await advance(tx, this.#d, r, workflow, fx, steps, desiredVersions(plugins, read.desired))
    await this.#flush(tx, fx)
  }

  async #applyOutcome(o: InstructionOutcome): Promise<void> {
    const fx = new Effects()
    await this.#d.db.sql.transaction((tx) => this.#recordOutcome(tx, o, fx))
    this.#after(fx)
  }

  // The transaction's collected writes and audit entries, in one round trip.
  async #flush(tx: SqlClient, fx: Effects): Promise<void> {
    const audit = outboxStatement(fx.audit)
    const all = combine(audit ? [...fx.statements, audit] : fx.statements)
    fx.statements.length = 0
    if (all) await run(tx, all)
  }

  #after(fx: Effects): void {
    for (const q of fx.wake) void this.#d.dispatcher.wake(q)
    for (const s of fx.stream) this.#d.stream.publish(s.orgId, s.event)
    if (fx.audit.length > 0) this.#d.audit.drainSoon()
    for (const [workflowId, orgId] of fx.freed) this.#track(this.startQueued(orgId, workflowId))
  }

  async cancelRun(orgId: string, runId: string, actor: Actor): Promise<RunRecord> {
    const fx = new Effects()
    const org = checkUuid('orgId', orgId)
    const id = checkUuid('runId', runId, 'STAVILY_ERR_RUN_NOT_FOUND')
    const instructions: string[] = []
    const cancelled = await this.#d.db.sql.transaction(async (tx) => {
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
      const workflow = await this.definition(tx, r.workflowId, r.workflowVersion)
      if (workflow.concurrency !== null) fx.freed.set(r.workflowId, org)
      await this.#flush(tx, fx)
      return row
    })
    this.#after(fx)
    // After the run's commit, each in its own transaction: a result being recorded locks its
    // instruction and then the run, so taking them in the other order here could deadlock.
    // The agent holding one is told at its next heartbeat or poll; queued work never starts.
    // A crash in between is caught by the reconcile pass (orphanedInstructions).
    for (const i of instructions) await this.#d.dispatcher.cancel(org, i).catch(() => {})
    return toRun(cancelled)
  }

  async retryRun(orgId: string, runId: string, actor: Actor): Promise<RunRecord> {
    const org = checkUuid('orgId', orgId)
    const prior = await getRun(this.#d.db.sql, org, checkUuid('runId', runId, 'STAVILY_ERR_RUN_NOT_FOUND'))
    if (!prior) throw new StavilyError('STAVILY_ERR_RUN_NOT_FOUND', `run ${runId}: not found`)
    const head = await this.#head(prior.workflowId)
    if (!head)
      throw new StavilyError('STAVILY_ERR_WORKFLOW_NOT_FOUND', `workflow ${prior.workflowId}: not found`)
    const workflow = await this.definition(this.#d.db.sql, head.id, prior.workflowVersion)
    // The same version and event, whatever the workflow looks like now; no dedupe key, or
    // the retry would be the original run again.
    const event = { ...prior.event, dedupeKey: prior.event.dedupeKey ?? null }
    // The retry keeps the run's priority.
    return this.#createRun(
      head,
      workflow,
      event,
      null,
      { ...actor },
      prior.workflowVersion,
      prior.priority ?? 0,
    )
  }

  // ---- reconcile ----------------------------------------------------------------------------

  /**
   * Finishes what hooks missed (a crash, a restart, a failed listener): steps whose
   * instruction finished, running runs with nothing in flight, queued runs with a free
   * slot, debounce windows past due. Safe on several instances at once: every move is
   * guarded by the run's lock and the state machine.
   */
  async reconcile(): Promise<void> {
    if (this.#closed) return
    const sql = this.#d.db.sql
    for (const o of (await run<Row<InstructionOutcome>>(sql, plans.missedOutcomes(200))).rows) {
      await this.#applyOutcome({ ...o, error: (o.error as InstructionOutcome['error']) ?? null })
    }
    for (const r of (
      await run<{ id: string; orgId: string }>(sql, plans.stalledRuns(ENGINE_POLICY.stalledAfterMs, 100))
    ).rows) {
      const fx = new Effects()
      await sql.transaction(async (tx) => {
        const locked = (await run<LockedRun>(tx, plans.lockRun(r.orgId, r.id))).rows[0]
        if (!locked) return
        const workflow = await this.definition(tx, locked.workflowId, locked.workflowVersion)
        await advance(tx, this.#d, locked, workflow, fx, await stepsOf(tx, locked))
        await this.#flush(tx, fx)
      })
      this.#after(fx)
    }
    for (const w of (await run<{ orgId: string; workflowId: string }>(sql, plans.workflowsWithQueuedRuns(50)))
      .rows) {
      await this.startQueued(w.orgId, w.workflowId)
    }
    for (const w of (
      await run<{ orgId: string; workflowId: string; key: string }>(sql, plans.dueDebounces(100))
    ).rows) {
      await this.checkDebounce(w.orgId, w.workflowId, w.key)
    }
    await purgeExpiredDeliveries(sql)
    // Schedules applied through another instance get a worker here too (and one removed
    // there stops here), about once a minute at the default interval.
    if (this.#d.background && ++this.#reconciles % 12 === 0) await this.schedules.syncAll()
    await this.#d.audit.drain()
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function checkUuid(
  field: string,
  v: string,
  code: 'STAVILY_ERR_INVALID_ARGUMENT' | 'STAVILY_ERR_RUN_NOT_FOUND' = 'STAVILY_ERR_INVALID_ARGUMENT',
): string {
  if (typeof v !== 'string' || !UUID.test(v))
    throw new StavilyError(code, `${field}: expected a UUID, got ${JSON.stringify(v)}`, { data: { field } })
  return v.toLowerCase()
}

/** Whether an event passes the trigger's filter; a filter that cannot be evaluated lets nothing through. */
function passes(workflow: Workflow, event: WorkflowEvent): boolean {
  const filter = 'filter' in workflow.trigger ? workflow.trigger.filter : null
  if (filter === null) return true
  try {
    return evaluateCondition(parseCondition(filter), expressionContext(event))
  } catch {
    return false
  }
}

/** A webhook's body as JSON (the route already refused anything else; this is the engine's own guard). */
function jsonBody(rawBody: Buffer): unknown {
  try {
    return rawBody.length === 0 ? {} : JSON.parse(rawBody.toString('utf8'))
  } catch (err) {
    throw new StavilyError('STAVILY_ERR_MALFORMED_BODY', `body: not valid JSON (${(err as Error).message})`, {
      data: { field: 'body' },
    })
  }
}
