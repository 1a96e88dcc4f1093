import { isoTime } from '../checks.ts'
import * as eventPlans from '../db/plans/events.ts'
import type { SqlClient } from '../db/sql-client.ts'
import { run } from '../db/sql-client.ts'
import { StavilyError } from '../errors.ts'
import { acceptDelivery, matchSignature, parseSignature, type WorkflowEvent } from '../workflows/index.ts'
import {
  authenticateProvider,
  offersProviderCredential,
  type WebhookProvider,
} from '../workflows/webhook/providers/index.ts'
import type { Headers } from '../workflows/webhook/providers/types.ts'
import { SIGNATURE_HEADER } from '../workflows/webhook/signature.ts'
import type { EngineCore, Head } from './core.ts'
import type { RunRecord } from './run-records.ts'
import type { RunLifecycle } from './runs.ts'
import { type Actor, SYSTEM, type WebhookAnswer } from './types.ts'
import { passes, type Windows } from './windows.ts'

// Events in: webhook deliveries (signed by Stavily or authenticated the way their provider
// does it), sensor events, schedule firings and operators' manual runs, each turned into a
// workflow event for the windows and the run.

export class Intake {
  readonly #c: EngineCore
  readonly #runs: RunLifecycle
  readonly #windows: Windows

  constructor(core: EngineCore, runs: RunLifecycle, windows: Windows) {
    this.#c = core
    this.#runs = runs
    this.#windows = windows
  }

  /**
   * A webhook delivery: `rawBody` is what its signature covers; `body` is that body as the
   * HTTP route already parsed it (parsed here only when a caller has not).
   */
  async ingestWebhook(
    workflowId: string,
    rawBody: Buffer,
    headers: Headers,
    ip: string | null,
    body?: unknown,
  ): Promise<WebhookAnswer> {
    const data = () => (body === undefined ? jsonBody(rawBody) : body)
    const stavilyHeader =
      typeof headers[SIGNATURE_HEADER] === 'string' ? headers[SIGNATURE_HEADER] : undefined
    if (stavilyHeader === undefined && offersProviderCredential(headers))
      return this.#ingestFromProvider(workflowId, rawBody, headers, ip, data)
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
      data: data(),
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
    return this.#windows.consider(head, workflow, event, { type: 'system', id: null, ip }, null, claim)
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
    data: () => unknown,
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
    const events = check.provider.events({ headers, body: rawBody, secret: hook.secret }, data())
    const actor: Actor = { type: 'system', id: null, ip }
    const answers: WebhookAnswer[] = []
    for (const event of events)
      answers.push(await this.#windows.consider(head, workflow, event, actor, event.dedupeKey))
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
    const head = await this.#c.head(workflowId)
    const workflow = head ? await this.#c.definition(this.#c.d.db.sql, head.id, head.version) : undefined
    const trigger = workflow?.trigger.kind === 'webhook' ? workflow.trigger : undefined
    // Versions saved before providers existed have none: they were Stavily-signed.
    const provider = trigger ? (trigger.provider ?? 'stavily') : undefined
    const usable = trigger && (only === undefined || provider === only)
    const secret =
      head && usable
        ? (await this.#c.d.secrets.getExisting(head.orgId, [trigger.secret]))[trigger.secret]
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
    const head = await this.#c.head(workflowId)
    if (!head || head.orgId !== orgId.toLowerCase())
      throw new StavilyError('STAVILY_ERR_WORKFLOW_NOT_FOUND', `workflow ${workflowId}: not found`)
    if (opts.requireEnabled && !head.enabled)
      throw new StavilyError(
        'STAVILY_ERR_WORKFLOW_DISABLED',
        `workflow ${head.name}: is disabled; enable it first (stavily workflow enable ${head.name})`,
      )
    const workflow = await this.#c.definition(this.#c.d.db.sql, head.id, head.version)
    if (!passes(workflow, event)) return null
    return this.#runs.create(head, workflow, event, null, actor, head.version, opts.priority ?? 0)
  }

  /** A schedule fired (the cron worker, or a test): one run per firing (`key` dedupes a redelivered job). */
  async fireSchedule(orgId: string, workflowId: string, at: Date, key: string): Promise<RunRecord | null> {
    const head = await this.#c.head(workflowId)
    if (!head || head.orgId !== orgId || !head.enabled) return null
    const workflow = await this.#c.definition(this.#c.d.db.sql, head.id, head.version)
    if (workflow.trigger.kind !== 'schedule') return null
    const event: WorkflowEvent = {
      source: 'schedule',
      type: 'schedule.fired',
      data: { scheduledAt: at.toISOString() },
      dedupeKey: `schedule:${key}`,
      occurredAt: at.toISOString(),
    }
    return this.#runs.create(head, workflow, event, event.dedupeKey ?? null, SYSTEM)
  }

  async onEvents(orgId: string, ids: string[]): Promise<void> {
    const { rows } = await run<{
      id: string
      sensorId: string
      source: string
      type: string
      data: unknown
      dedupeKey: string
      occurredAt: Date
    }>(this.#c.d.db.sql, eventPlans.sensorEvents(orgId, ids))
    for (const e of rows) {
      const head = await this.#c.head(e.sensorId)
      if (!head || head.orgId !== orgId || !head.enabled) continue
      const workflow = await this.#c.definition(this.#c.d.db.sql, head.id, head.version)
      if (workflow.trigger.kind !== 'sensor') continue
      await this.#windows.consider(
        head,
        workflow,
        {
          source: e.source,
          type: e.type,
          data: e.data,
          dedupeKey: e.dedupeKey,
          occurredAt: isoTime(e.occurredAt),
        },
        SYSTEM,
        `event:${e.id}`,
      )
    }
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
