import type { WorkflowEvent } from '../workflows/index.ts'
import type { RunRecord } from './run-records.ts'

/** Who did something, for the audit log. */
export type Actor = { type: 'user' | 'api_token' | 'agent' | 'system'; id: string | null; ip?: string | null }

export const SYSTEM: Actor = { type: 'system', id: null }

export type WebhookAnswer = {
  accepted: true
  runId: string | null
  reason?: 'filtered' | 'debounced' | 'throttled'
  /** Every run a delivery of several events started (an Alertmanager group: one per alert). */
  runIds?: string[]
}

/** The workflow engine as routes and the CLI see it (docs/internals.md, docs/operator-api.md). */
export interface Engine {
  /** POST /api/v1/hooks/:id — verifies the signature (or the provider's credential) + replay, applies filter/debounce/throttle; starts a run or says why not. */
  ingestWebhook(
    workflowId: string,
    rawBody: Buffer,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    ip: string | null,
    /** The body as the route parsed it (the engine parses `rawBody` only without it). */
    body?: unknown,
  ): Promise<WebhookAnswer>
  /** Cancels a run and its in-flight instructions; 409 STAVILY_ERR_RUN_FINISHED on a finished run. */
  cancelRun(orgId: string, runId: string, actor: Actor): Promise<RunRecord>
  /** Starts a new run of the same workflow version with the same event. */
  retryRun(orgId: string, runId: string, actor: Actor): Promise<RunRecord>
  /** Starts a run from a supplied event; applies the filter (null when it is false). */
  startRun(
    orgId: string,
    workflowId: string,
    event: WorkflowEvent,
    actor: Actor,
    opts?: { priority?: number; requireEnabled?: boolean },
  ): Promise<RunRecord | null>
  close(): Promise<void>
}
