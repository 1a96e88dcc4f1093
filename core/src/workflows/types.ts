import type { WebhookProvider } from './webhook/providers/types.ts'

// The workflow as the engine uses it: defaults applied, durations in milliseconds, one
// trigger kind tagged. Plain JSON, so it is stored as it is (each saved version keeps its source too).

/** `when` and `filter`: a constant or an expression's source (bare or `${{ }}`). */
export type ConditionSource = boolean | string

export interface RetryPolicy {
  /** Retries after the first attempt. */
  limit: number
  backoff: 'fixed' | 'exponential'
  /** Delay before the first retry; doubled on each further one when the backoff is exponential. */
  delayMs: number
}

export interface StepBase {
  id: string
  name: string | null
  plugin: string
  version: string
  config: Record<string, unknown>
  /** Rendered with the expression language just before the step runs. */
  input: Record<string, unknown>
  pool: string
  timeoutMs: number
  retry: RetryPolicy
  when: ConditionSource | null
}

export type ActionStep = StepBase

export interface OutputStep extends StepBase {
  /** Which run outcome this output runs on. */
  on: 'success' | 'failure' | 'always'
}

export interface SensorTrigger {
  kind: 'sensor'
  plugin: string
  version: string
  config: Record<string, unknown>
  pool: string
  /** Polling period; null when the sensor watches. */
  intervalMs: number | null
  watch: boolean
  filter: ConditionSource | null
}

export interface WebhookTrigger {
  kind: 'webhook'
  /** Name of the organization secret that signs the requests (HMAC). */
  secret: string
  /** Who sends the requests, and so how they are authenticated and read (webhook/providers). */
  provider: WebhookProvider
  filter: ConditionSource | null
  /** Answer the caller with the run's result (absent in versions saved before it existed). */
  respond?: WebhookRespond | null
}

/** Wait up to `waitMs` for the run; then answer `status` and `body`, rendered with the finished run. */
export interface WebhookRespond {
  waitMs: number
  /** An HTTP status, or a template rendering to one. */
  status: number | string
  /** Any JSON value; its strings are templates. Null: `{ runId, status }`. */
  body: unknown
}

export interface ScheduleTrigger {
  kind: 'schedule'
  cron: string
  timezone: string
}

export type Trigger = SensorTrigger | WebhookTrigger | ScheduleTrigger

export interface Window {
  windowMs: number
  /** Template evaluated per event; events with the same key share a window. Null: one window for the workflow. */
  key: string | null
}

export interface Workflow {
  name: string
  description: string | null
  enabled: boolean
  trigger: Trigger
  actions: ActionStep[]
  outputs: OutputStep[]
  /** Most runs at once; further runs wait. Null: no limit. */
  concurrency: number | null
  /** Start one run after events stop arriving for the window (with the last event). */
  debounce: Window | null
  /** Start at most one run per window (with the first event); later events in the window start none. */
  throttle: Window | null
}
